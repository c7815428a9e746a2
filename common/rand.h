//  rand: unguessable identifiers and PKCE values, from libsodium's CSPRNG.
#ifndef RAND_H_INCLUDED
#define RAND_H_INCLUDED

#include <stddef.h>

//  Bytes of randomness in a session id, a state and a PKCE verifier (256 bits each).
#define RAND_ID_BYTES 32
//  Characters of an id of RAND_ID_BYTES in base64url without padding, plus the NUL.
#define RAND_ID_SIZE 44

//  Initialise libsodium once per process. Returns 0, or -1 when it cannot.
int rand_init(void);
//  Write a fresh base64url id of RAND_ID_BYTES random bytes into out. Returns 0, or -1 when out is too small.
int rand_id(char *out, size_t out_size);
//  True when s looks like an id made by rand_id (length and alphabet), so it is safe to use as a key.
int rand_id_is_valid(const char *s);
//  Write the S256 PKCE challenge (base64url SHA-256) of verifier into out. Returns 0, or -1 when out is too small.
int rand_pkce_challenge(const char *verifier, char *out, size_t out_size);

#endif
