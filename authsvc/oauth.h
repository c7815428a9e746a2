//  oauth: RingCentral's OAuth endpoints (/restapi/oauth/authorize, token, revoke): the authorize URL,
//  and the token (code exchange, refresh) and revoke requests on the service's http client.
#ifndef OAUTH_H_INCLUDED
#define OAUTH_H_INCLUDED

#include "common/config.h"
#include "common/http.h"
#include "common/store.h"
#include "common/upstream.h"
#include "proto/proto.h"

#include <stddef.h>
#include <stdint.h>

//  Write the authorize URL (response_type, client_id, redirect_uri, state, S256 challenge) into out. Returns 0, or -1 when it does not fit.
int oauth_authorize_url(const config_rc_t *rc, const char *state, const char *challenge, char *out, size_t size);
//  Start the authorization_code grant (Basic auth, code_verifier). Returns 0, or -1 (done is never called).
int oauth_start_exchange(http_t *http, const config_rc_t *rc, const char *code, const char *verifier,
                         http_done_fn *done, void *arg);
//  Start the refresh_token grant, with a total timeout of timeout_ms (0: the client's). Returns 0, or -1 (done is never called).
int oauth_start_refresh(http_t *http, const config_rc_t *rc, const char *refresh_token, long timeout_ms,
                        http_done_fn *done, void *arg);
//  Start a revoke of token (ends the whole login). Returns 0, or -1 (done is never called).
int oauth_start_revoke(http_t *http, const config_rc_t *rc, const char *token, http_done_fn *done, void *arg);
//  Fill the token fields of rec (tokens, expiries from now_ms, owner_id, scope) from a 200 token response. Returns 0, or -1 with a reason.
int oauth_parse_tokens(const char *body, size_t len, int64_t now_ms, store_session_t *rec, const char **why_p);
//  What a token-endpoint response means: PROTO_OK for 2xx; invalid_client, unauthorized_client (OAU-251)
//  and any 401 -> APP_REJECTED (our client id/secret, or the app's auth type, is wrong); other 4xx but 429 ->
//  UPSTREAM_REJECTED (final: the grant is dead); otherwise as upstream_code. *reason_p gets a short log word
//  (the OAuth error when there is one); detail (may be NULL) gets RingCentral's status, code and message.
proto_code_t oauth_classify(const http_response_t *resp, const char **reason_p, upstream_detail_t *detail);

#endif
