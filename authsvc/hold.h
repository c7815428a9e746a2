//  hold: HOLD records a 429 penalty in the session record, so that every apisvc process waits it out.
#ifndef HOLD_H_INCLUDED
#define HOLD_H_INCLUDED

#include "authsvc/authsvc.h"

//  HOLD {sid, until} -> HOLD_OK {} once the session's rate_limited_until is at least until (committed;
//  never lowered). until must lie in the future and at most STORE_HOLD_MAX_MS ahead, else BAD_REQUEST;
//  a session that is gone gives NOT_LOGGED_IN.
void hold_request(authsvc_t *self, const svc_peer_t *peer, proto_msg_t *req);

#endif
