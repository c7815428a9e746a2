//  session: see session.h.
#include "gateway/session.h"

#include <civetweb.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

//  The label the CSRF token is computed over; changing it invalidates every open page.
static const char s_csrf_label[] = "rcdemo/logout-csrf/v1";

int session_sid_from_cookie(const char *cookie_header, char sid[RAND_ID_SIZE])
{
    sid[0] = '\0';
    if (!cookie_header)
        return -1;
    if (mg_get_cookie(cookie_header, SESSION_COOKIE, sid, RAND_ID_SIZE) < 0 || !rand_id_is_valid(sid)) {
        sid[0] = '\0';
        return -1;
    }
    return 0;
}

int session_set_cookie(char *out, size_t out_size, const char *sid, bool secure)
{
    if (!rand_id_is_valid(sid))
        return -1;
    int n = snprintf(out, out_size, "%s=%s; Path=/; HttpOnly; SameSite=Lax%s", SESSION_COOKIE, sid,
                     secure ? "; Secure" : "");
    return n > 0 && (size_t) n < out_size ? 0 : -1;
}

int session_clear_cookie(char *out, size_t out_size, bool secure)
{
    int n = snprintf(out, out_size, "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s", SESSION_COOKIE,
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

bool session_same_origin(const char *origin, const char *host, const char *sec_fetch_site)
{
    if (sec_fetch_site && strcasecmp(sec_fetch_site, "cross-site") == 0)
        return false;
    //  A browser that says same-origin is believed: it sends "Origin: null" for our own forms,
    //  since every page goes out with Referrer-Policy: no-referrer.
    if (sec_fetch_site && strcasecmp(sec_fetch_site, "same-origin") == 0)
        return true;
    if (!origin)
        return true;    //  older browsers send none; the CSRF token still protects
    const char *authority = NULL;
    if (strncasecmp(origin, "http://", 7) == 0)
        authority = origin + 7;
    else if (strncasecmp(origin, "https://", 8) == 0)
        authority = origin + 8;
    //  "null" (sandboxed or privacy-sensitive contexts) and other schemes are not us.
    if (!authority || !host || !*host)
        return false;
    return strcasecmp(authority, host) == 0;
}
