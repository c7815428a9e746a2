//  seal: the key ring and authenticated encryption of the store's secret fields (tokens, PKCE verifiers).
//
//  libsodium's XChaCha20-Poly1305 (IETF), a random 24-byte nonce per seal. A sealed field is
//  [version 1][key id, 4 bytes big-endian][nonce 24][ciphertext][tag 16]; its associated data is
//  the header, the record kind ("session", "pending"), the field name and the record's key
//  (session id or state), so a sealed field opens only in the field and record it was sealed for:
//  moved to another record, swapped with another field or given another key id, it fails.
//
//  The key ring file (KEY_FILE): one key a line, "ID BASE64" (ID 1 .. 4294967295, BASE64 the 32
//  key bytes), '#' comments and blank lines ignored. The first key seals, every key opens. The file
//  must be a regular file (no symlink) of this user, not readable or writable by group or others.
//  Key bytes live in sodium_malloc'ed memory (guard pages, mlock'ed, wiped on free).
//  A seal_ring_t is safe to use from many threads; seal_ring_reload swaps the keys atomically.
#ifndef SEAL_H_INCLUDED
#define SEAL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _seal_ring_t seal_ring_t;

enum {
    SEAL_EFORMAT = -1,  //  not a sealed field (too short, unknown version)
    SEAL_EKEY = -2,     //  sealed with a key id the ring does not hold (retired, or another ring)
    SEAL_EAUTH = -3,    //  does not authenticate: tampered, or moved to another record or field
    SEAL_ESPACE = -4,   //  the output buffer is too small
};

#define SEAL_KEYS_MAX 16
#define SEAL_KEY_BYTES 32
#define SEAL_HEADER 5                          //  version + key id
#define SEAL_OVERHEAD (SEAL_HEADER + 24 + 16)  //  header + nonce + tag

//  Load the key ring in path (see above). Returns NULL and logs why (never key bytes) on failure.
seal_ring_t *seal_ring_load(const char *path);
//  Read the ring's file again and use its keys from now on; on failure the keys held stay. Returns 0, or -1 (logged).
int seal_ring_reload(seal_ring_t *self);
//  Reload the ring when its file changed (another inode, size or mtime: deploy/rekey renames a new file in).
//  Cheap (one lstat): call it every second. Returns 1 (reloaded), 0 (unchanged) or -1 (no file, or a bad one: logged; keys kept).
int seal_ring_refresh(seal_ring_t *self);
//  Wipe and free the ring and set *self_p to NULL. Safe with *self_p == NULL.
void seal_ring_destroy(seal_ring_t **self_p);
//  Make a key ring file at path with one fresh key (its id: the Unix time now), mode 0600, only when there is none (O_EXCL: an existing
//  file, even an unreadable one, is never replaced). Returns 1 (made), 0 (one exists, left alone), or -1 (logged).
int seal_ring_create(const char *path);
//  The id of the key that seals.
uint32_t seal_ring_first_id(seal_ring_t *self);
//  Write the ids of the ring's keys (first: the sealing one) into ids (cap entries). Returns how many there are.
size_t seal_ring_ids(seal_ring_t *self, uint32_t *ids, size_t cap);

//  Seal len bytes of plain for field `field` of the record `key` of kind `kind` with the first key, into out
//  (cap >= len + SEAL_OVERHEAD); *out_len gets the size. kind, field and key are at most 128 bytes each.
//  Returns 0 or SEAL_ESPACE (out or a name too long).
int seal_seal(seal_ring_t *self, const char *kind, const char *field, const char *key, const void *plain, size_t len,
              unsigned char *out, size_t cap, size_t *out_len);
//  Open a sealed field for the same kind, field and key into out (cap >= len - SEAL_OVERHEAD). A key id the ring does
//  not know makes it look at its file (seal_ring_refresh: deploy/rekey may have added the key meanwhile).
//  Returns 0, SEAL_EFORMAT, SEAL_EKEY, SEAL_EAUTH or SEAL_ESPACE; out is wiped on failure.
int seal_open(seal_ring_t *self, const char *kind, const char *field, const char *key, const unsigned char *in,
              size_t len, void *out, size_t cap, size_t *out_len);
//  The key id a sealed field names, without opening it. Returns 0 or SEAL_EFORMAT.
int seal_key_id(const unsigned char *in, size_t len, uint32_t *id);
//  A short text for a SEAL_* code (for log lines).
const char *seal_strerror(int rc);
//  Keep this process's memory out of core dumps and ptrace by other processes of the user
//  (PR_SET_DUMPABLE 0, RLIMIT_CORE 0). Returns 0, or -1 (logged).
int seal_harden_process(void);

#endif
