//  authorize: GET /restapi/oauth/authorize (validate, then the login page or
//  an automatic approval) and POST /restapi/oauth/authorize (the login page's
//  Authorize / Deny form).
#ifndef MOCKRC_AUTHORIZE_H_INCLUDED
#define MOCKRC_AUTHORIZE_H_INCLUDED

#include "tests/mockrc/state.h"

#include <civetweb.h>

//  Handle GET /restapi/oauth/authorize. Returns the HTTP status sent.
int authorize_get(struct mg_connection *c, state_t *st, int arg);
//  Handle POST /restapi/oauth/authorize (the login form). Returns the HTTP status sent.
int authorize_post(struct mg_connection *c, state_t *st, int arg);

#endif
