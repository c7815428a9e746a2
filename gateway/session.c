//  session: see session.h.
#include "gateway/session.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

//  The gateway's own key (HMAC-SHA256): tags the session cookies it sets and derives CSRF tokens. Set once at
//  start (session_key_load), before any worker thread, then read-only (sodium_mprotect_readonly).
static unsigned char *s_key;

//  The labels each MAC is computed over: a cookie tag is never a CSRF token. Changing one invalidates every
//  cookie (everyone logs in again) or every open logout form.
static const char s_csrf_label[] = "rcdemo/logout-csrf/v2";
static const char s_tag_label[] = "rcdemo/sid-cookie/v1";

//  HMAC-SHA256 under the gateway's key of label then sid, into mac. Returns -1 when no key is loaded.
static int s_mac(const char *label, size_t label_len, const char *sid, unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
    if (!s_key)
        return -1;
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, s_key, SESSION_KEY_BYTES);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *) label, label_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *) sid, strlen(sid));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof st);
    return 0;
}

//  Read (or make, when absent) the key file at path into key. Another gateway on the same DATA_DIR may make it
//  at the same time: the key is written to a temporary file and linked in place, so the first link wins and
//  everyone reads that one, whole. Returns 0, or -1 with the reason in err.
static int s_key_file(const char *path, unsigned char *key, char *err, size_t err_size)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        char tmp[4096];
        if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int) sizeof tmp) {
            snprintf(err, err_size, "the key file's path is too long");
            return -1;
        }
        int t = mkstemp(tmp);  //  0600
        if (t < 0) {
            snprintf(err, err_size, "cannot make %s: %s", path, strerror(errno));
            return -1;
        }
        randombytes_buf(key, SESSION_KEY_BYTES);
        bool ok = write(t, key, SESSION_KEY_BYTES) == SESSION_KEY_BYTES && fsync(t) == 0;
        int why = ok ? 0 : errno ? errno : EIO;
        sodium_memzero(key, SESSION_KEY_BYTES);
        close(t);
        if (ok && link(tmp, path) != 0 && errno != EEXIST)  //  EEXIST: another gateway's key is in place
            why = errno;
        unlink(tmp);
        if (why) {
            snprintf(err, err_size, "cannot make %s: %s", path, strerror(why));
            return -1;
        }
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
        snprintf(err, err_size, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    const char *why = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        why = "is not a regular file";
    else if (st.st_uid != geteuid())
        why = "is owned by another user";
    else if (st.st_mode & 077)
        why = "is readable or writable by group or others (chmod 600 it)";
    else if (st.st_size != SESSION_KEY_BYTES)
        why = "does not hold a key of 32 bytes";
    else if (read(fd, key, SESSION_KEY_BYTES) != SESSION_KEY_BYTES)
        why = "cannot be read";
    close(fd);
    if (why) {
        snprintf(err, err_size, "the gateway's key file %s %s", path, why);
        return -1;
    }
    return 0;
}

int session_key_load(const char *path, char *err, size_t err_size)
{
    session_key_unload();
    unsigned char *key = sodium_malloc(SESSION_KEY_BYTES);  //  guarded, locked in memory
    if (!key) {
        snprintf(err, err_size, "no memory for the gateway's key");
        return -1;
    }
    if (!path)
        randombytes_buf(key, SESSION_KEY_BYTES);
    else if (s_key_file(path, key, err, err_size) != 0) {
        sodium_free(key);
        return -1;
    }
    sodium_mprotect_readonly(key);
    s_key = key;
    return 0;
}

void session_key_unload(void)
{
    if (s_key)
        sodium_free(s_key);  //  wipes it
    s_key = NULL;
}

//  The tag of sid (base64url of the first SESSION_TAG_BYTES of its MAC) into out. Returns -1 without a key.
static int s_tag(const char *sid, char out[SESSION_TAG_SIZE])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    if (s_mac(s_tag_label, sizeof s_tag_label - 1, sid, mac) < 0)
        return -1;
    sodium_bin2base64(out, SESSION_TAG_SIZE, mac, SESSION_TAG_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(mac, sizeof mac);
    return 0;
}

int session_cookie_value(const char *sid, char *out, size_t size)
{
    char tag[SESSION_TAG_SIZE];
    if (!rand_id_is_valid(sid) || s_tag(sid, tag) < 0)
        return -1;
    int n = snprintf(out, size, "%s.%s", sid, tag);
    return n > 0 && (size_t) n < size ? 0 : -1;
}

const char *session_cookie_name(bool secure)
{
    return secure ? SESSION_COOKIE_SECURE : SESSION_COOKIE;
}

//  The value of the first cookie named exactly name in a Cookie header ("a=1; b=2"), into out.
//  Returns 0, or -1 when there is none or its value does not fit.
static int s_cookie_value(const char *header, const char *name, char *out, size_t size)
{
    size_t name_len = strlen(name);
    for (const char *p = header; *p;) {
        p += strspn(p, " \t;");
        size_t pair = strcspn(p, ";");
        const char *eq = memchr(p, '=', pair);
        if (eq && (size_t) (eq - p) == name_len && memcmp(p, name, name_len) == 0) {
            const char *v = eq + 1;
            size_t len = pair - (size_t) (v - p);
            while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
                len--;
            if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
                v++;
                len -= 2;
            }
            if (len >= size)
                return -1;
            memcpy(out, v, len);
            out[len] = '\0';
            return 0;
        }
        p += pair;
    }
    return -1;
}

int session_sid_from_cookie(const char *cookie_header, bool secure, char sid[RAND_ID_SIZE])
{
    sid[0] = '\0';
    char value[SESSION_COOKIE_VALUE_SIZE], want[SESSION_TAG_SIZE];
    if (!cookie_header || s_cookie_value(cookie_header, session_cookie_name(secure), value, sizeof value) < 0)
        return -1;
    //  "<sid>.<tag>": a value the gateway did not set (no tag, another key's, a planted id) is no session.
    char *dot = strchr(value, '.');
    int rc = -1;
    if (dot) {
        *dot = '\0';
        const char *tag = dot + 1;
        if (rand_id_is_valid(value) && s_tag(value, want) == 0 && strlen(tag) == strlen(want)
            && sodium_memcmp(tag, want, strlen(want)) == 0) {
            memcpy(sid, value, strlen(value) + 1);
            rc = 0;
        }
    }
    sodium_memzero(value, sizeof value);
    sodium_memzero(want, sizeof want);
    return rc;
}

//  Path=/ and no Domain in both modes: what __Host- requires, and host-only for plain http too.
int session_set_cookie(char *out, size_t out_size, const char *sid, bool secure)
{
    char value[SESSION_COOKIE_VALUE_SIZE];
    if (session_cookie_value(sid, value, sizeof value) < 0)
        return -1;
    int n = snprintf(out, out_size, "%s=%s; Path=/; HttpOnly; SameSite=Lax%s", session_cookie_name(secure), value,
                     secure ? "; Secure" : "");
    sodium_memzero(value, sizeof value);
    return n > 0 && (size_t) n < out_size ? 0 : -1;
}

int session_clear_cookie(char *out, size_t out_size, bool secure)
{
    int n = snprintf(out, out_size, "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s", session_cookie_name(secure),
                     secure ? "; Secure" : "");
    return n > 0 && (size_t) n < out_size ? 0 : -1;
}

int session_csrf(const char *sid, char out[SESSION_CSRF_SIZE])
{
    out[0] = '\0';
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    if (!rand_id_is_valid(sid) || s_mac(s_csrf_label, sizeof s_csrf_label - 1, sid, mac) < 0)
        return -1;
    sodium_bin2base64(out, SESSION_CSRF_SIZE, mac, sizeof mac, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(mac, sizeof mac);
    return 0;
}

bool session_csrf_ok(const char *sid, const char *token)
{
    char expected[SESSION_CSRF_SIZE];
    if (!sid || !token || session_csrf(sid, expected) < 0)
        return false;
    if (strlen(token) != strlen(expected))
        return false;
    return sodium_memcmp(expected, token, strlen(expected)) == 0;
}

bool session_same_origin(const char *origin, const char *host, const char *sec_fetch_site, bool secure)
{
    if (sec_fetch_site && strcasecmp(sec_fetch_site, "cross-site") == 0)
        return false;
    //  A browser that says same-origin is believed: it sends "Origin: null" for our own forms,
    //  since every page goes out with Referrer-Policy: no-referrer.
    if (sec_fetch_site && strcasecmp(sec_fetch_site, "same-origin") == 0)
        return true;
    if (!origin)
        return true;  //  older browsers send none; the CSRF token still protects
    //  Our scheme is PUBLIC_URL's: an http:// page of the same host (port 80 and 443 have the same
    //  Host header without a port) is another origin.
    const char *scheme = secure ? "https://" : "http://";
    const char *authority = strncasecmp(origin, scheme, strlen(scheme)) == 0 ? origin + strlen(scheme) : NULL;
    //  "null" (sandboxed or privacy-sensitive contexts) and other schemes are not us.
    if (!authority || !host || !*host)
        return false;
    return strcasecmp(authority, host) == 0;
}
