//  routes: the mock's table of routes (method, path -> handler) and the one
//  civetweb request handler that dispatches through it.
#ifndef MOCKRC_ROUTES_H_INCLUDED
#define MOCKRC_ROUTES_H_INCLUDED

#include <civetweb.h>

//  civetweb request handler for every path; cbdata is the state_t. Returns the HTTP status sent.
int routes_handle(struct mg_connection *c, void *cbdata);

#endif
