//  session: the browser's session cookie, its CSRF token, and the same-origin check.
//
//  The browser holds only an opaque session id (rand_id) in a cookie whose name and
//  attributes follow PUBLIC_URL's scheme (secure = https), never anything the client says:
//      http:   rcsid=<id>.<tag>; Path=/; HttpOnly; SameSite=Lax
//      https:  __Host-rcsid=<id>.<tag>; Path=/; HttpOnly; SameSite=Lax; Secure
//  The tag (base64url of 16 bytes of HMAC-SHA256 of the id under the gateway's own key) says the
//  gateway set this id: a cookie without it or with a wrong one (planted by another site of the
//  same host: cookies are shared by every port of a host) is no cookie, so it cannot start or pin
//  a login. The services only ever see the id, never the tag.
//  (__Host-: the browser keeps it only when Secure, Path=/ and no Domain, so neither a
//  plain-http page nor a sibling domain can set it.) Cookie names are matched exactly
//  (case-sensitive, as RFC 6265 has it): "__host-rcsid" is not ours.
//  The CSRF token of a session is derived from its id (base64url of HMAC-SHA256 under the
//  gateway's key over a fixed label and the id): nothing to store, and it tells nothing about
//  the id. The key (SESSION_KEY_BYTES) is the gateway's alone, in DATA_DIR/gateway.key (0600,
//  made at the first start), so cookies and open logout forms survive a gateway restart and
//  every gateway of a DATA_DIR accepts the others' cookies; it is not a client secret.
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
//  Bytes of the gateway's key; bytes of MAC in a cookie's tag, and its characters (base64url) plus the NUL.
#define SESSION_KEY_BYTES 32
#define SESSION_TAG_BYTES 16
#define SESSION_TAG_SIZE 23
//  Characters of a cookie value ("<id>.<tag>") plus the NUL.
#define SESSION_COOKIE_VALUE_SIZE (RAND_ID_SIZE + SESSION_TAG_SIZE)

//  Load the gateway's key from the file at path, making it (0600, random) when absent; NULL: a fresh key in
//  memory only (tests). Call once before any thread uses this module. Returns 0, or -1 with the reason in err
//  (the file is not a regular file of ours, is open to group or others, or is not SESSION_KEY_BYTES long).
int session_key_load(const char *path, char *err, size_t err_size);
//  Wipe and forget the key. Safe without one.
void session_key_unload(void);
//  Write the cookie value of sid ("<id>.<tag>") into out. Returns 0, or -1 when sid is not a valid id, no key
//  is loaded or out is too small.
int session_cookie_value(const char *sid, char *out, size_t out_size);

//  The session cookie's name: SESSION_COOKIE_SECURE when secure, else SESSION_COOKIE.
const char *session_cookie_name(bool secure);
//  Read the session id from a Cookie header (the cookie named for secure) into sid, its tag checked in constant
//  time. Returns 0, or -1 when absent, too long, not a valid id or not tagged by this key (sid is then "").
int session_sid_from_cookie(const char *cookie_header, bool secure, char sid[RAND_ID_SIZE]);
//  Write the Set-Cookie value that stores sid. Returns 0, or -1 when sid is not a valid id or out is too small.
int session_set_cookie(char *out, size_t out_size, const char *sid, bool secure);
//  Write the Set-Cookie value that clears the cookie (Max-Age=0). Returns 0, or -1 when out is too small.
int session_clear_cookie(char *out, size_t out_size, bool secure);
//  Write the CSRF token of sid into out. Returns 0, or -1 when sid is not a valid id or no key is loaded.
int session_csrf(const char *sid, char out[SESSION_CSRF_SIZE]);
//  True when token is the CSRF token of sid (compared in constant time). False for any NULL.
bool session_csrf_ok(const char *sid, const char *token);
//  True unless the request says it comes from another site: an Origin header whose scheme is not
//  https (secure) or http (not secure) or whose host is not the Host header (or "null" without
//  Sec-Fetch-Site: same-origin), or Sec-Fetch-Site: cross-site. NULL headers are absent.
bool session_same_origin(const char *origin, const char *host, const char *sec_fetch_site, bool secure);

#endif
