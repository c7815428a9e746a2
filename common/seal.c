//  seal: see seal.h.
#include "common/seal.h"

#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define S_VERSION 1
#define S_NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define S_TAG crypto_aead_xchacha20poly1305_ietf_ABYTES
#define S_FILE_MAX 4096  //  a ring file is at most SEAL_KEYS_MAX short lines
#define S_PART_MAX 128   //  longest kind, field or record key (a store key is at most PROTO_SID_MAX, 128)
#define S_AD_MAX (SEAL_HEADER + 3 * (S_PART_MAX + 1))

struct _seal_ring_t {
    pthread_rwlock_t lock;
    char path[PATH_MAX];
    size_t count;
    uint32_t ids[SEAL_KEYS_MAX];
    unsigned char *keys;  //  sodium_malloc'ed: SEAL_KEYS_MAX * SEAL_KEY_BYTES
    struct stat file;     //  the file as last read (seal_ring_refresh compares)
};

//  Read path (a private regular file of this user) into buf. Returns the length, or -1 with why set.
static ssize_t s_read_private(const char *path, char *buf, size_t cap, struct stat *st_out, const char **why)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        *why = errno == ENOENT ? "no key file (authsvc --init-store makes one; deploy/start runs it)"
            : errno == ELOOP   ? "the key file is a symlink"
                               : "cannot open the key file";
        return -1;
    }
    struct stat st;
    ssize_t n = -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        *why = "the key file is not a regular file";
    else if (st.st_uid != geteuid())
        *why = "the key file belongs to another user";
    else if (st.st_mode & 077)
        *why = "the key file is readable or writable by group or others (chmod 600 it)";
    else if (st.st_size <= 0 || st.st_size >= (off_t) cap)
        *why = "the key file is empty or too large";
    else {
        size_t got = 0;
        while (got < (size_t) st.st_size) {
            ssize_t r = read(fd, buf + got, cap - 1 - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t) r;
        }
        if (got == (size_t) st.st_size)
            n = (ssize_t) got;
        else
            *why = "cannot read the key file";
    }
    close(fd);
    if (n >= 0) {
        buf[n] = '\0';
        *st_out = st;
    }
    return n;
}

//  Parse a ring file's text into ids and keys (count entries). Returns 0, or -1 with why set.
static int s_parse(char *text, uint32_t *ids, unsigned char *keys, size_t *count, const char **why)
{
    size_t n = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        while (*line == ' ' || *line == '\t')
            line++;
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
            line[--len] = '\0';
        if (len == 0 || *line == '#')
            continue;
        char *end = NULL;
        errno = 0;
        unsigned long id = strtoul(line, &end, 10);
        if (errno || end == line || (*end != ' ' && *end != '\t') || id == 0 || id > UINT32_MAX || *line == '-') {
            *why = "a line's key id is not a number 1 .. 4294967295";
            return -1;
        }
        while (*end == ' ' || *end == '\t')
            end++;
        if (n == SEAL_KEYS_MAX) {
            *why = "more than 16 keys";
            return -1;
        }
        size_t bin_len = 0;
        if (sodium_base642bin(keys + n * SEAL_KEY_BYTES, SEAL_KEY_BYTES, end, strlen(end), NULL, &bin_len, NULL,
                              sodium_base64_VARIANT_ORIGINAL)
                != 0
            || bin_len != SEAL_KEY_BYTES) {
            *why = "a key is not the base64 of 32 bytes";
            return -1;
        }
        for (size_t i = 0; i < n; i++)
            if (ids[i] == (uint32_t) id) {
                *why = "the same key id twice";
                return -1;
            }
        ids[n++] = (uint32_t) id;
    }
    if (n == 0) {
        *why = "no key in the key file";
        return -1;
    }
    *count = n;
    return 0;
}

//  A reload must still hold the key this ring seals with (same id, same bytes): deploy/rekey adds keys in front
//  and never retires the sealing one. A file without it is another store's (its DATA_DIR replaced under us) or
//  an overwrite: taking it would make every record unreadable, and the re-seal walk would drop them all.
//  Returns 0 (a first load, or a rotation) or -1 with why set.
static int s_is_rotation(seal_ring_t *self, const uint32_t *ids, const unsigned char *keys, size_t count,
                         const char **why)
{
    int rc = self->keys ? -1 : 0;
    pthread_rwlock_rdlock(&self->lock);
    for (size_t i = 0; rc != 0 && i < count; i++)
        if (ids[i] == self->ids[0] && sodium_memcmp(keys + i * SEAL_KEY_BYTES, self->keys, SEAL_KEY_BYTES) == 0)
            rc = 0;
    pthread_rwlock_unlock(&self->lock);
    if (rc != 0)
        *why = "the key file no longer holds the key this process seals with, so it is not a rotation (deploy/rekey "
               "keeps that key): the data directory was replaced or the file overwritten; the keys held are kept";
    return rc;
}

//  Read the ring's file and, when it is good, swap its keys in. Returns 0 or -1 (logged).
static int s_load(seal_ring_t *self)
{
    char *text = sodium_malloc(S_FILE_MAX);
    unsigned char *keys = sodium_malloc(SEAL_KEYS_MAX * SEAL_KEY_BYTES);
    uint32_t ids[SEAL_KEYS_MAX];
    size_t count = 0;
    const char *why = "out of memory";
    struct stat st;
    int rc = -1;
    if (text && keys && s_read_private(self->path, text, S_FILE_MAX, &st, &why) >= 0
        && s_parse(text, ids, keys, &count, &why) == 0)
        rc = s_is_rotation(self, ids, keys, count, &why);
    if (text)
        sodium_free(text);  //  wipes
    if (rc != 0) {
        if (keys)
            sodium_free(keys);
        log_error("seal.ring.fail", "file=%s reason=\"%s\"", self->path, why);
        return -1;
    }
    pthread_rwlock_wrlock(&self->lock);
    unsigned char *old = self->keys;
    self->keys = keys;
    memcpy(self->ids, ids, sizeof ids);
    self->count = count;
    self->file = st;
    pthread_rwlock_unlock(&self->lock);
    if (old)
        sodium_free(old);
    char list[SEAL_KEYS_MAX * 11 + 1] = "";
    size_t at = 0;
    for (size_t i = 0; i < count; i++)
        at += (size_t) snprintf(list + at, sizeof list - at, "%s%u", i ? "," : "", ids[i]);
    log_info("seal.ring", "file=%s keys=%s sealing=%u", self->path, list, ids[0]);
    return 0;
}

seal_ring_t *seal_ring_load(const char *path)
{
    if (sodium_init() < 0 || !path || !*path || strlen(path) >= PATH_MAX) {
        log_error("seal.ring.fail", "reason=\"no key file path, or libsodium init failed\"");
        return NULL;
    }
    seal_ring_t *self = calloc(1, sizeof *self);
    if (!self || pthread_rwlock_init(&self->lock, NULL) != 0) {
        free(self);
        log_error("seal.ring.fail", "reason=\"out of memory\"");
        return NULL;
    }
    snprintf(self->path, sizeof self->path, "%s", path);
    if (s_load(self) != 0)
        seal_ring_destroy(&self);
    return self;
}

int seal_ring_reload(seal_ring_t *self)
{
    return self ? s_load(self) : -1;
}

int seal_ring_refresh(seal_ring_t *self)
{
    struct stat now;
    if (!self || lstat(self->path, &now) != 0)
        return -1;  //  gone for now (a rename under way, or deleted): keep the keys held
    pthread_rwlock_rdlock(&self->lock);
    bool same = now.st_dev == self->file.st_dev && now.st_ino == self->file.st_ino && now.st_size == self->file.st_size
        && now.st_mtim.tv_sec == self->file.st_mtim.tv_sec && now.st_mtim.tv_nsec == self->file.st_mtim.tv_nsec;
    pthread_rwlock_unlock(&self->lock);
    if (same)
        return 0;
    if (s_load(self) == 0)
        return 1;
    pthread_rwlock_wrlock(&self->lock);
    self->file = now;  //  logged once: tried again when the file changes again
    pthread_rwlock_unlock(&self->lock);
    return -1;
}

void seal_ring_destroy(seal_ring_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    seal_ring_t *self = *self_p;
    if (self->keys)
        sodium_free(self->keys);
    pthread_rwlock_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

int seal_ring_create(const char *path)
{
    if (sodium_init() < 0)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST)
        return 0;
    if (fd < 0) {
        log_error("seal.create.fail", "file=%s reason=\"%s\"", path, strerror(errno));
        return -1;
    }
    unsigned char key[SEAL_KEY_BYTES];
    char line[24 + sodium_base64_ENCODED_LEN(SEAL_KEY_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    randombytes_buf(key, sizeof key);
    //  The id is the time of creation (deploy/rekey does the same): rings made apart do not share ids, so a record
    //  of another ring fails as "unknown key id", and an operator can tell the keys' ages.
    int at = snprintf(line, sizeof line, "%u ", (unsigned) time(NULL));
    sodium_bin2base64(line + at, sizeof line - (size_t) at - 1, key, sizeof key, sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(key, sizeof key);
    size_t len = strlen(line);
    line[len++] = '\n';
    bool ok = fchmod(fd, 0600) == 0 && write(fd, line, len) == (ssize_t) len && fsync(fd) == 0;
    sodium_memzero(line, sizeof line);
    if (close(fd) != 0)
        ok = false;
    if (!ok) {
        log_error("seal.create.fail", "file=%s reason=\"cannot write it\"", path);
        unlink(path);
        return -1;
    }
    return 1;
}

uint32_t seal_ring_first_id(seal_ring_t *self)
{
    pthread_rwlock_rdlock(&self->lock);
    uint32_t id = self->ids[0];
    pthread_rwlock_unlock(&self->lock);
    return id;
}

size_t seal_ring_ids(seal_ring_t *self, uint32_t *ids, size_t cap)
{
    pthread_rwlock_rdlock(&self->lock);
    size_t n = self->count;
    for (size_t i = 0; i < n && i < cap; i++)
        ids[i] = self->ids[i];
    pthread_rwlock_unlock(&self->lock);
    return n;
}

//  The associated data: header, kind, field and key, each NUL-terminated (none holds a NUL). Returns its length, or 0
//  when a part is longer than S_PART_MAX (never cut short: two keys alike in their first bytes must not share it).
static size_t s_ad(unsigned char *ad, const unsigned char *header, const char *kind, const char *field, const char *key)
{
    size_t at = SEAL_HEADER;
    memcpy(ad, header, SEAL_HEADER);
    const char *parts[3] = { kind, field, key };
    for (int i = 0; i < 3; i++) {
        size_t n = strnlen(parts[i], S_PART_MAX + 1);
        if (n > S_PART_MAX)
            return 0;
        memcpy(ad + at, parts[i], n);
        at += n;
        ad[at++] = '\0';
    }
    return at;
}

int seal_seal(seal_ring_t *self, const char *kind, const char *field, const char *key, const void *plain, size_t len,
              unsigned char *out, size_t cap, size_t *out_len)
{
    if (cap < SEAL_OVERHEAD || len > cap - SEAL_OVERHEAD)
        return SEAL_ESPACE;
    unsigned char ad[S_AD_MAX];
    if (!kind || !field || !key)
        return SEAL_ESPACE;
    pthread_rwlock_rdlock(&self->lock);
    uint32_t id = self->ids[0];
    out[0] = S_VERSION;
    out[1] = (unsigned char) (id >> 24);
    out[2] = (unsigned char) (id >> 16);
    out[3] = (unsigned char) (id >> 8);
    out[4] = (unsigned char) id;
    unsigned char *nonce = out + SEAL_HEADER;
    randombytes_buf(nonce, S_NONCE);
    size_t ad_len = s_ad(ad, out, kind, field, key);
    if (ad_len == 0) {
        pthread_rwlock_unlock(&self->lock);
        return SEAL_ESPACE;
    }
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + SEAL_HEADER + S_NONCE, &clen, plain, len, ad, ad_len, NULL, nonce,
                                               self->keys);
    pthread_rwlock_unlock(&self->lock);
    *out_len = SEAL_HEADER + S_NONCE + (size_t) clen;
    return 0;
}

int seal_key_id(const unsigned char *in, size_t len, uint32_t *id)
{
    if (len < SEAL_OVERHEAD || in[0] != S_VERSION)
        return SEAL_EFORMAT;
    *id = (uint32_t) in[1] << 24 | (uint32_t) in[2] << 16 | (uint32_t) in[3] << 8 | in[4];
    return 0;
}

//  Open with the ring's key of the field's id. Returns 0, SEAL_EKEY or SEAL_EAUTH.
static int s_open(seal_ring_t *self, uint32_t id, const unsigned char *ad, size_t ad_len, const unsigned char *in,
                  size_t len, void *out, size_t *out_len)
{
    int rc = SEAL_EKEY;
    pthread_rwlock_rdlock(&self->lock);
    for (size_t i = 0; i < self->count; i++) {
        if (self->ids[i] != id)
            continue;
        unsigned long long plen = 0;
        rc = crypto_aead_xchacha20poly1305_ietf_decrypt(out, &plen, NULL, in + SEAL_HEADER + S_NONCE,
                                                        len - SEAL_HEADER - S_NONCE, ad, ad_len, in + SEAL_HEADER,
                                                        self->keys + i * SEAL_KEY_BYTES)
                == 0
            ? 0
            : SEAL_EAUTH;
        *out_len = (size_t) plen;
        break;
    }
    pthread_rwlock_unlock(&self->lock);
    return rc;
}

int seal_open(seal_ring_t *self, const char *kind, const char *field, const char *key, const unsigned char *in,
              size_t len, void *out, size_t cap, size_t *out_len)
{
    uint32_t id;
    if (seal_key_id(in, len, &id) != 0)
        return SEAL_EFORMAT;
    if (len - SEAL_OVERHEAD > cap)
        return SEAL_ESPACE;
    unsigned char ad[S_AD_MAX];
    size_t ad_len = kind && field && key ? s_ad(ad, in, kind, field, key) : 0;
    if (ad_len == 0)
        return SEAL_EFORMAT;
    int rc = s_open(self, id, ad, ad_len, in, len, out, out_len);
    //  deploy/rekey may have added the key since this ring last looked at its file: look again (one lstat; the file
    //  is read only when it changed, so records naming made-up key ids cost no more than that).
    if (rc == SEAL_EKEY && seal_ring_refresh(self) == 1)
        rc = s_open(self, id, ad, ad_len, in, len, out, out_len);
    if (rc != 0)
        sodium_memzero(out, cap);
    return rc;
}

const char *seal_strerror(int rc)
{
    switch (rc) {
        case 0: return "ok";
        case SEAL_EFORMAT: return "not_sealed";
        case SEAL_EKEY: return "unknown_key_id";
        case SEAL_EAUTH: return "does_not_authenticate";
        case SEAL_ESPACE: return "too_long";
        default: return "unknown";
    }
}

int seal_harden_process(void)
{
    struct rlimit none = { 0, 0 };
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 || setrlimit(RLIMIT_CORE, &none) != 0) {
        log_error("seal.harden.fail", "reason=\"%s\"", strerror(errno));
        return -1;
    }
    return 0;
}
