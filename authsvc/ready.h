//  ready: authsvc's part of the gateway's /readyz: READY -> READY_OK {store, config, mock?}.
//
//  Each field is "ok" or a short reason for an operator (never a path or a secret):
//    store   one LMDB read transaction (store_check);
//    config  at least one RingCentral environment is configured (both are loaded at start, or the process
//            does not start; one deliberately left unconfigured is fine);
//    mock    demo mode only: GET <RC_SERVER_URL>/_mock/health answers 200 within READY_MOCK_TIMEOUT_MS.
#ifndef READY_H_INCLUDED
#define READY_H_INCLUDED

#include "authsvc/authsvc.h"

//  The bound of the mock's check: the gateway gives authsvc's answer 1 s in all.
#define READY_MOCK_TIMEOUT_MS 800

//  READY {} -> READY_OK (at once, or once the mock's check has ended in demo mode).
void ready_request(authsvc_t *self, const svc_peer_t *peer, proto_msg_t *req);

#endif
