//  session: see session.h.
#include "gateway/session.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

//  The label the CSRF token is computed over; changing it invalidates every open page.
static const char s_csrf_label[] = "rcdemo/logout-csrf/v1";

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
    if (!cookie_header)
        return -1;
    if (s_cookie_value(cookie_header, session_cookie_name(secure), sid, RAND_ID_SIZE) < 0 || !rand_id_is_valid(sid)) {
        sid[0] = '\0';
        return -1;
    }
    return 0;
}

//  Path=/ and no Domain in both modes: what __Host- requires, and host-only for plain http too.
int session_set_cookie(char *out, size_t out_size, const char *sid, bool secure)
{
    if (!rand_id_is_valid(sid))
        return -1;
    int n = snprintf(out, out_size, "%s=%s; Path=/; HttpOnly; SameSite=Lax%s", session_cookie_name(secure), sid,
                     secure ? "; Secure" : "");
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
    if (!rand_id_is_valid(sid))
        return -1;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *) sid, strlen(sid));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *) s_csrf_label, sizeof s_csrf_label - 1);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2base64(out, SESSION_CSRF_SIZE, mac, sizeof mac, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(&st, sizeof st);
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
        return true;    //  older browsers send none; the CSRF token still protects
    //  Our scheme is PUBLIC_URL's: an http:// page of the same host (port 80 and 443 have the same
    //  Host header without a port) is another origin.
    const char *scheme = secure ? "https://" : "http://";
    const char *authority = strncasecmp(origin, scheme, strlen(scheme)) == 0 ? origin + strlen(scheme) : NULL;
    //  "null" (sandboxed or privacy-sensitive contexts) and other schemes are not us.
    if (!authority || !host || !*host)
        return false;
    return strcasecmp(authority, host) == 0;
}
