//  api: API {sid, api, params?} -> API_OK {status, content_type, body}: one of the demo's three
//  RingCentral APIs called with the session's access token (read from the store).
//  A token expiring within 60 s is refreshed first (REFRESH through authsvc); a 401
//  TokenExpired/TokenInvalid gets one refresh and one retry; a 429 is retried once
//  when Retry-After <= 2 s (the session's other requests wait it out too), otherwise
//  answered RATE_LIMITED and the session makes no further call until it has passed; a REFRESH answered RATE_LIMITED holds the session
//  back the same way (its token stays stale until then).
#ifndef API_H_INCLUDED
#define API_H_INCLUDED

#include "apisvc/authc.h"
#include "common/config.h"
#include "common/http.h"
#include "common/store.h"
#include "common/svc.h"

typedef struct _api_t api_t;

//  A new API handler. Returns NULL out of memory.
api_t *api_new(const config_t *cfg, store_t *store, http_t *http, authc_t *authc);
//  Free and set *self_p to NULL (transfers must have ended: destroy http first). Safe with NULL.
void api_destroy(api_t **self_p);
//  The svc handler for API requests (arg is the api_t).
void api_handle(svc_t *svc, const svc_peer_t *peer, proto_msg_t *req, void *arg);
//  Timer: start the 429 retries that are due and forget expired penalties. Call every ~50 ms.
void api_tick(svc_t *svc, void *arg);
//  The RingCentral path of an api name, or NULL when the name is not one of the three.
const char *api_path(const char *name);
//  0 when params ("key=value&…", NULL or "" for none) holds only parameters allowed for the api name,
//  each valid (proto_api_param_ok); -1 otherwise.
int api_params_ok(const char *name, const char *params);
//  server + path + "?" + params, each pair URL-encoded by curl's URL API, into out. Returns 0, or -1 when
//  the URL is not valid or does not fit size.
int api_url_build(const char *server, const char *path, const char *params, char *out, size_t size);
//  True when a 401 body says the token is expired or invalid (top-level or nested errorCode).
bool api_is_token_error(const char *body, size_t len);

#endif
