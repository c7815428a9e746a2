//  session: the browser's session cookie, its CSRF token, and the same-origin check.
//
//  The browser holds only an opaque session id (rand_id) in a cookie whose name and
//  attributes follow PUBLIC_URL's scheme (secure = https), never anything the client says:
//      http:   rcsid=<id>; Path=/; HttpOnly; SameSite=Lax
//      https:  __Host-rcsid=<id>; Path=/; HttpOnly; SameSite=Lax; Secure
//  (__Host-: the browser keeps it only when Secure, Path=/ and no Domain, so neither a
//  plain-http page nor a sibling domain can set it.) Cookie names are matched exactly
//  (case-sensitive, as RFC 6265 has it): "__host-rcsid" is not ours.
//  The CSRF token of a session is derived from its id (base64url of
//  HMAC-SHA256 keyed by the id over a fixed label): nothing to store, and it
//  tells nothing about the id.
#ifndef SESSION_H_INCLUDED
#define SESSION_H_INCLUDED

#include "common/rand.h"

#include <stdbool.h>
#include <stddef.h>

#define SESSION_COOKIE "rcsid"
#define SESSION_COOKIE_SECURE "__Host-rcsid"
//  Characters of a CSRF token (base64url of 32 bytes, no padding) plus the NUL.
#define SESSION_CSRF_SIZE 44
//  Room for a Set-Cookie value of this module.
#define SESSION_SET_COOKIE_SIZE 160

//  The session cookie's name: SESSION_COOKIE_SECURE when secure, else SESSION_COOKIE.
const char *session_cookie_name(bool secure);
//  Read the session id from a Cookie header (the cookie named for secure) into sid.
//  Returns 0, or -1 when absent, too long or not a valid id (sid is then "").
int session_sid_from_cookie(const char *cookie_header, bool secure, char sid[RAND_ID_SIZE]);
//  Write the Set-Cookie value that stores sid. Returns 0, or -1 when sid is not a valid id or out is too small.
int session_set_cookie(char *out, size_t out_size, const char *sid, bool secure);
//  Write the Set-Cookie value that clears the cookie (Max-Age=0). Returns 0, or -1 when out is too small.
int session_clear_cookie(char *out, size_t out_size, bool secure);
//  Write the CSRF token of sid into out. Returns 0, or -1 when sid is not a valid id.
int session_csrf(const char *sid, char out[SESSION_CSRF_SIZE]);
//  True when token is the CSRF token of sid (compared in constant time). False for any NULL.
bool session_csrf_ok(const char *sid, const char *token);
//  True unless the request says it comes from another site: an Origin header whose scheme is not
//  https (secure) or http (not secure) or whose host is not the Host header (or "null" without
//  Sec-Fetch-Site: same-origin), or Sec-Fetch-Site: cross-site. NULL headers are absent.
bool session_same_origin(const char *origin, const char *host, const char *sec_fetch_site, bool secure);

#endif
