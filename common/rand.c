//  rand: see rand.h.
#include "common/rand.h"

#include <sodium.h>
#include <string.h>

#define VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING

int rand_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

int rand_id(char *out, size_t out_size)
{
    unsigned char bytes[RAND_ID_BYTES];
    if (out_size < sodium_base64_ENCODED_LEN(sizeof bytes, VARIANT))
        return -1;
    randombytes_buf(bytes, sizeof bytes);
    sodium_bin2base64(out, out_size, bytes, sizeof bytes, VARIANT);
    sodium_memzero(bytes, sizeof bytes);
    return 0;
}

int rand_id_is_valid(const char *s)
{
    if (!s || strlen(s) != RAND_ID_SIZE - 1)
        return 0;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == RAND_ID_SIZE - 1;
}

int rand_pkce_challenge(const char *verifier, char *out, size_t out_size)
{
    unsigned char hash[crypto_hash_sha256_BYTES];
    if (out_size < sodium_base64_ENCODED_LEN(sizeof hash, VARIANT))
        return -1;
    crypto_hash_sha256(hash, (const unsigned char *) verifier, strlen(verifier));
    sodium_bin2base64(out, out_size, hash, sizeof hash, VARIANT);
    return 0;
}
