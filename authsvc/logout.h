//  logout: LOGOUT revokes the login at RingCentral, then deletes the session record (even when the revoke fails).
#ifndef LOGOUT_H_INCLUDED
#define LOGOUT_H_INCLUDED

#include "authsvc/authsvc.h"

//  LOGOUT {sid} -> LOGOUT_OK {} once the record is deleted (a missing record is already logged out).
void logout_request(authsvc_t *self, const svc_peer_t *peer, proto_msg_t *req);

//  Revoke rec's login at RingCentral without waiting for the answer (its tokens are being replaced). Failures are logged.
void logout_revoke_detached(authsvc_t *self, const store_session_t *rec);

#endif
