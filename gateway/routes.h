//  routes: THE route table of the gateway and the one civetweb handler that dispatches on it.
//
//      path              method  handler                  needs a session cookie
//      /                 GET     main page                 -
//      /index            GET     302 to /                  -
//      /login            GET     login_start               -
//      /oauth2callback   GET     login_callback            -
//      /test             GET     testpage_show             yes (else 302 to /)
//      /logout           GET     login_logout_page         yes (else 302 to /)
//      /logout           POST    login_logout              yes (else 303 to /)
//      /healthz          GET     probes_healthz (liveness) -
//      /readyz           GET     probes_readyz (checks)    -
//      /static/...       GET     compiled-in assets        -
//  Any other path is a 404 page, another method a 405 page with Allow. One access
//  line per request (ev=http): method, route (never the query string), status, ms,
//  bytes sent, client address and the request id (rid=, the error page's reference);
//  at debug for the probes' routes.
#ifndef ROUTES_H_INCLUDED
#define ROUTES_H_INCLUDED

struct mg_connection;

//  The civetweb request handler of every path; cbdata is the server's const request_ctx_t *. Returns the status sent.
int routes_handle(struct mg_connection *conn, void *cbdata);

#endif
