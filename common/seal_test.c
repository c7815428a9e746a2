//  seal_test: the key ring file (create, load, refuse), sealing and opening, the associated data's binding
//  (kind, field, record key, key id), tampering, rotation (several keys, reload) and the file checks.
#include "common/log.h"
#include "common/seal.h"
#include "tests/support/seal_testutil.h"
#include "tests/testlib.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

//  A path under the test directory (a few live at once: a small rotation of buffers).
static const char *s_path(const char *name)
{
    static char paths[4][512];
    static int next;
    char *path = paths[next++ % 4];
    snprintf(path, 512, "%s/%s", test_tmpdir(), name);
    return path;
}

static void s_write_text(const char *path, const char *text, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0);
    CHECK(write(fd, text, strlen(text)) == (ssize_t) strlen(text));
    close(fd);
    CHECK(chmod(path, mode) == 0);
}

static const char *TOKEN = "U0pDMDFQMDFQQVMwMHxBQUFWdE5rR2xhVzZ3aGlzdGxl";

static void t_create(void)
{
    const char *path = s_path("created");
    CHECK(seal_ring_create(path) == 1);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    char before[256] = "", after[256] = "";
    FILE *f = fopen(path, "r");
    CHECK(f && fgets(before, sizeof before, f));
    fclose(f);
    char *end = NULL;
    unsigned long made_id = strtoul(before, &end, 10);
    CHECK(made_id >= (unsigned long) time(NULL) - 5 && made_id <= (unsigned long) time(NULL) && *end == ' ');
    //  Never replaced, not even by a second create.
    CHECK(seal_ring_create(path) == 0);
    f = fopen(path, "r");
    CHECK(f && fgets(after, sizeof after, f));
    fclose(f);
    CHECK(strcmp(before, after) == 0);
    seal_ring_t *ring = seal_ring_load(path);
    CHECK(ring != NULL);
    CHECK(seal_ring_first_id(ring) == made_id);
    seal_ring_destroy(&ring);
    CHECK(ring == NULL);
    seal_ring_destroy(&ring);
    //  Two made apart differ.
    CHECK(seal_ring_create(s_path("created2")) == 1);
    f = fopen(s_path("created2"), "r");
    CHECK(f && fgets(after, sizeof after, f));
    fclose(f);
    CHECK(strcmp(before, after) != 0);
    CHECK(seal_ring_create("/proc/no/such/dir/keys") == -1);
}

static void t_roundtrip(void)
{
    const char *path = s_path("roundtrip");
    test_write_ring(path, (uint32_t[]){ 7 }, 1);
    seal_ring_t *ring = seal_ring_load(path);
    CHECK(ring != NULL);
    unsigned char a[256], b[256];
    size_t alen = 0, blen = 0, n = 0;
    char out[128];
    CHECK(seal_seal(ring, "session", "access_token", "sid-1", TOKEN, strlen(TOKEN), a, sizeof a, &alen) == 0);
    CHECK(alen == strlen(TOKEN) + SEAL_OVERHEAD);
    CHECK(memmem(a, alen, TOKEN, strlen(TOKEN)) == NULL);
    uint32_t id = 0;
    CHECK(seal_key_id(a, alen, &id) == 0 && id == 7);
    CHECK(seal_open(ring, "session", "access_token", "sid-1", a, alen, out, sizeof out, &n) == 0);
    CHECK(n == strlen(TOKEN) && memcmp(out, TOKEN, n) == 0);
    //  A fresh nonce each time: the same token seals differently.
    CHECK(seal_seal(ring, "session", "access_token", "sid-1", TOKEN, strlen(TOKEN), b, sizeof b, &blen) == 0);
    CHECK(blen == alen && memcmp(a, b, alen) != 0);
    //  Empty values too.
    CHECK(seal_seal(ring, "pending", "code_verifier", "st", "", 0, a, sizeof a, &alen) == 0 && alen == SEAL_OVERHEAD);
    CHECK(seal_open(ring, "pending", "code_verifier", "st", a, alen, out, sizeof out, &n) == 0 && n == 0);
    //  Buffers too small.
    CHECK(seal_seal(ring, "session", "access_token", "sid-1", TOKEN, strlen(TOKEN), a, 20, &alen) == SEAL_ESPACE);
    CHECK(seal_seal(ring, "session", "access_token", "sid-1", TOKEN, strlen(TOKEN), a, sizeof a, &alen) == 0);
    CHECK(seal_open(ring, "session", "access_token", "sid-1", a, alen, out, 8, &n) == SEAL_ESPACE);
    CHECK(seal_open(ring, "session", "access_token", "sid-1", a, 10, out, sizeof out, &n) == SEAL_EFORMAT);
    //  Record keys up to 128 bytes bind whole: two alike but for their last byte do not share a sealed field.
    char k1[129], k2[129];
    memset(k1, 'k', 128);
    k1[128] = '\0';
    memcpy(k2, k1, sizeof k2);
    k2[127] = 'K';
    CHECK(seal_seal(ring, "session", "access_token", k1, TOKEN, strlen(TOKEN), a, sizeof a, &alen) == 0);
    CHECK(seal_open(ring, "session", "access_token", k1, a, alen, out, sizeof out, &n) == 0);
    CHECK(seal_open(ring, "session", "access_token", k2, a, alen, out, sizeof out, &n) == SEAL_EAUTH);
    char k3[130];
    memset(k3, 'k', 129);
    k3[129] = '\0';
    CHECK(seal_seal(ring, "session", "access_token", k3, TOKEN, strlen(TOKEN), a, sizeof a, &alen) == SEAL_ESPACE);
    seal_ring_destroy(&ring);
}

//  The associated data: another kind, field, record key or key id does not open.
static void t_binding(void)
{
    const char *path = s_path("binding");
    test_write_ring(path, (uint32_t[]){ 2, 1 }, 2);
    seal_ring_t *ring = seal_ring_load(path);
    CHECK(ring != NULL);
    unsigned char a[256];
    size_t alen = 0, n = 0;
    char out[128];
    CHECK(seal_seal(ring, "session", "refresh_token", "sid-1", TOKEN, strlen(TOKEN), a, sizeof a, &alen) == 0);
    CHECK(seal_open(ring, "pending", "refresh_token", "sid-1", a, alen, out, sizeof out, &n) == SEAL_EAUTH);
    CHECK(seal_open(ring, "session", "access_token", "sid-1", a, alen, out, sizeof out, &n) == SEAL_EAUTH);
    CHECK(seal_open(ring, "session", "refresh_token", "sid-2", a, alen, out, sizeof out, &n) == SEAL_EAUTH);
    CHECK(seal_open(ring, "session", "refresh_token", "sid-", a, alen, out, sizeof out, &n) == SEAL_EAUTH);
    //  Field and key boundaries cannot be shifted: "refresh_token"+"sid-1" is not "refresh_tokensid-"+"1".
    CHECK(seal_open(ring, "session", "refresh_tokensid-", "1", a, alen, out, sizeof out, &n) == SEAL_EAUTH);
    CHECK(out[0] == '\0');  //  wiped on failure
    //  The header names key 2; relabelled as key 1 (also in the ring) it does not open.
    CHECK(a[4] == 2);
    a[4] = 1;
    CHECK(seal_open(ring, "session", "refresh_token", "sid-1", a, alen, out, sizeof out, &n) == SEAL_EAUTH);
    a[4] = 9;  //  a key id the ring does not hold
    CHECK(seal_open(ring, "session", "refresh_token", "sid-1", a, alen, out, sizeof out, &n) == SEAL_EKEY);
    a[4] = 2;
    a[0] = 2;  //  an unknown format version
    CHECK(seal_open(ring, "session", "refresh_token", "sid-1", a, alen, out, sizeof out, &n) == SEAL_EFORMAT);
    a[0] = 1;
    CHECK(seal_open(ring, "session", "refresh_token", "sid-1", a, alen, out, sizeof out, &n) == 0);
    seal_ring_destroy(&ring);
}

//  Any one byte flipped, anywhere, and it does not open.
static void t_tamper(void)
{
    const char *path = s_path("tamper");
    test_write_ring(path, (uint32_t[]){ 3 }, 1);
    seal_ring_t *ring = seal_ring_load(path);
    CHECK(ring != NULL);
    unsigned char a[256];
    size_t alen = 0, n = 0;
    char out[128];
    CHECK(seal_seal(ring, "session", "access_token", "sid-1", TOKEN, strlen(TOKEN), a, sizeof a, &alen) == 0);
    int opened = 0;
    for (size_t i = 0; i < alen; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            a[i] ^= (unsigned char) (1u << bit);
            if (seal_open(ring, "session", "access_token", "sid-1", a, alen, out, sizeof out, &n) == 0)
                opened++;
            a[i] ^= (unsigned char) (1u << bit);
        }
    }
    CHECK(opened == 0);
    //  Truncated by one byte.
    CHECK(seal_open(ring, "session", "access_token", "sid-1", a, alen - 1, out, sizeof out, &n) == SEAL_EAUTH);
    seal_ring_destroy(&ring);
}

//  Rotation: a new first key seals, the old one still opens; once retired, what it sealed does not open.
static void t_rotation(void)
{
    const char *path = s_path("rotation");
    test_write_ring(path, (uint32_t[]){ 1 }, 1);
    seal_ring_t *ring = seal_ring_load(path);
    CHECK(ring != NULL);
    unsigned char old[256], fresh[256];
    size_t olen = 0, flen = 0, n = 0;
    char out[128];
    CHECK(seal_seal(ring, "session", "access_token", "s", TOKEN, strlen(TOKEN), old, sizeof old, &olen) == 0);
    CHECK(seal_ring_refresh(ring) == 0);  //  unchanged
    test_write_ring(path, (uint32_t[]){ 2, 1 }, 2);
    CHECK(seal_ring_refresh(ring) == 1);
    CHECK(seal_ring_first_id(ring) == 2);
    uint32_t ids[SEAL_KEYS_MAX];
    CHECK(seal_ring_ids(ring, ids, SEAL_KEYS_MAX) == 2 && ids[0] == 2 && ids[1] == 1);
    CHECK(seal_seal(ring, "session", "access_token", "s", TOKEN, strlen(TOKEN), fresh, sizeof fresh, &flen) == 0);
    uint32_t id = 0;
    CHECK(seal_key_id(fresh, flen, &id) == 0 && id == 2);
    CHECK(seal_open(ring, "session", "access_token", "s", old, olen, out, sizeof out, &n) == 0);
    CHECK(seal_open(ring, "session", "access_token", "s", fresh, flen, out, sizeof out, &n) == 0);
    //  Retired.
    test_write_ring(path, (uint32_t[]){ 2 }, 1);
    CHECK(seal_ring_reload(ring) == 0);
    CHECK(seal_open(ring, "session", "access_token", "s", old, olen, out, sizeof out, &n) == SEAL_EKEY);
    CHECK(seal_open(ring, "session", "access_token", "s", fresh, flen, out, sizeof out, &n) == 0);
    //  A bad file keeps the keys held.
    s_write_text(path, "2 not-base64!\n", 0600);
    CHECK(seal_ring_refresh(ring) == -1);
    CHECK(seal_ring_refresh(ring) == 0);  //  reported once, until the file changes again
    CHECK(seal_open(ring, "session", "access_token", "s", fresh, flen, out, sizeof out, &n) == 0);
    //  Another store's key file (its DATA_DIR moved in under us), or the sealing key overwritten: not a rotation,
    //  so the keys held are kept (taken, every record would be unreadable and the re-seal walk would drop them).
    test_write_ring(path, (uint32_t[]){ 7 }, 1);
    CHECK(seal_ring_refresh(ring) == -1);
    CHECK(seal_ring_reload(ring) == -1);
    s_write_text(path, "2 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", 0600);  //  id 2, other bytes
    CHECK(seal_ring_reload(ring) == -1);
    CHECK(seal_ring_first_id(ring) == 2);
    CHECK(seal_open(ring, "session", "access_token", "s", fresh, flen, out, sizeof out, &n) == 0);
    test_write_ring(path, (uint32_t[]){ 3, 2 }, 2);  //  a rotation again
    CHECK(seal_ring_refresh(ring) == 1 && seal_ring_first_id(ring) == 3);
    seal_ring_destroy(&ring);
}

//  A ring meeting a key id it does not know reads its file again (another process added the key).
static void t_lazy_reload(void)
{
    const char *path = s_path("lazy");
    test_write_ring(path, (uint32_t[]){ 1 }, 1);
    seal_ring_t *reader = seal_ring_load(path);
    CHECK(reader != NULL);
    test_write_ring(path, (uint32_t[]){ 5, 1 }, 2);
    seal_ring_t *writer = seal_ring_load(path);
    CHECK(writer != NULL);
    unsigned char a[256];
    size_t alen = 0, n = 0;
    char out[128];
    CHECK(seal_seal(writer, "session", "access_token", "s", TOKEN, strlen(TOKEN), a, sizeof a, &alen) == 0);
    CHECK(seal_open(reader, "session", "access_token", "s", a, alen, out, sizeof out, &n) == 0);
    CHECK(seal_ring_first_id(reader) == 5);
    //  A made-up key id: the file unchanged, nothing read again, still unknown.
    a[4] = 77;
    CHECK(seal_open(reader, "session", "access_token", "s", a, alen, out, sizeof out, &n) == SEAL_EKEY);
    seal_ring_destroy(&reader);
    seal_ring_destroy(&writer);
}

//  Files that are refused, each with its reason logged.
static void t_bad_files(void)
{
    const char *path = s_path("bad");
    CHECK(seal_ring_load(s_path("absent")) == NULL);
    test_write_ring(path, (uint32_t[]){ 1 }, 1);
    CHECK(chmod(path, 0640) == 0);
    CHECK(seal_ring_load(path) == NULL);
    CHECK(chmod(path, 0604) == 0);
    CHECK(seal_ring_load(path) == NULL);
    CHECK(chmod(path, 0600) == 0);
    seal_ring_t *ring = seal_ring_load(path);
    CHECK(ring != NULL);
    seal_ring_destroy(&ring);
    const char *link = s_path("bad-link");
    CHECK(symlink(path, link) == 0);
    CHECK(seal_ring_load(link) == NULL);
    char b64[sodium_base64_ENCODED_LEN(SEAL_KEY_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    unsigned char key[SEAL_KEY_BYTES] = { 0 };
    sodium_bin2base64(b64, sizeof b64, key, sizeof key, sodium_base64_VARIANT_ORIGINAL);
    char text[512];
    const char *bad[][2] = { { "", "" },      { "# only a comment", "" }, { "0 ", "\n" },         { "x ", "\n" },
                             { "-1 ", "\n" }, { "4294967296 ", "\n" },    { "1 ", "\n1 AAAA\n" }, { "1 AAAA", "" },
                             { "1", "" },     { "1 ", " junk\n" },        { "1 ", "\n2 " } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "%s%s%s", bad[i][0], bad[i][0][0] ? b64 : "", bad[i][1]);
        if (strcmp(bad[i][0], "1 AAAA") == 0 || strcmp(bad[i][0], "1") == 0)
            snprintf(text, sizeof text, "%s\n", bad[i][0]);
        s_write_text(path, text, 0600);
        ring = seal_ring_load(path);
        if (!CHECK(ring == NULL))
            fprintf(stderr, "accepted: %s", text);
        seal_ring_destroy(&ring);
    }
    snprintf(text, sizeof text, "1 %s\n1 %s\n", b64, b64);  //  the same id twice
    s_write_text(path, text, 0600);
    CHECK(seal_ring_load(path) == NULL);
    snprintf(text, sizeof text, "4294967295 %s\r\n", b64);
    s_write_text(path, text, 0600);
    ring = seal_ring_load(path);
    CHECK(ring != NULL && seal_ring_first_id(ring) == 4294967295u);
    seal_ring_destroy(&ring);
}

static const test_case_t cases[] = {
    { "create", t_create },     { "roundtrip", t_roundtrip },     { "binding", t_binding },     { "tamper", t_tamper },
    { "rotation", t_rotation }, { "lazy_reload", t_lazy_reload }, { "bad_files", t_bad_files },
};

int main(int argc, char **argv)
{
    log_init("seal_test", LOGL_ERROR);
    return TEST_MAIN(argc, argv, cases);
}
