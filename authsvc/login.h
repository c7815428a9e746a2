//  login: AUTH_URL (state + PKCE, pending login stored) and EXCHANGE (code for tokens, session id rotated).
#ifndef LOGIN_H_INCLUDED
#define LOGIN_H_INCLUDED

#include "authsvc/authsvc.h"

//  AUTH_URL {sid, env} -> AUTH_URL_OK {url, redirect_uri}, after the pending login is committed.
void login_auth_url(authsvc_t *self, const svc_peer_t *peer, proto_msg_t *req);
//  EXCHANGE {sid, code, state} -> EXCHANGE_OK {new_sid, env, owner_id}, after the session record is committed.
void login_exchange(authsvc_t *self, const svc_peer_t *peer, proto_msg_t *req);

#endif
