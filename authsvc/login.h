//  login: AUTH_URL (state + PKCE, pending login stored), EXCHANGE (code for tokens, session id rotated) and
//  DECLINED (RingCentral answered error=: the pending login is consumed). A pending login is taken only by the
//  browser session that started it (or that session after a rotation); another session's attempt leaves it alone.
#ifndef LOGIN_H_INCLUDED
#define LOGIN_H_INCLUDED

#include "authsvc/authsvc.h"

//  AUTH_URL {sid, env} -> AUTH_URL_OK {url, redirect_uri}, after the pending login is committed.
void login_auth_url(authsvc_t *self, const svc_peer_t *peer, proto_msg_t *req);
//  EXCHANGE {sid, code, state} -> EXCHANGE_OK {new_sid, env, owner_id}, after the session record is committed.
//  ERROR STATE_MISMATCH when the state is unknown, expired or another session's (which keeps its pending login).
void login_exchange(authsvc_t *self, const svc_peer_t *peer, proto_msg_t *req);
//  DECLINED {sid, state} -> DECLINED_OK {env} after this session's pending login of state is deleted;
//  ERROR STATE_MISMATCH when it is unknown, expired or another session's (left untouched).
void login_declined(authsvc_t *self, const svc_peer_t *peer, proto_msg_t *req);

#endif
