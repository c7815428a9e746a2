//  token: POST /restapi/oauth/token (authorization_code and refresh_token
//  grants) and POST /restapi/oauth/revoke, with Basic client authentication
//  and the optional Auth-group rate limit.
#ifndef MOCKRC_TOKEN_H_INCLUDED
#define MOCKRC_TOKEN_H_INCLUDED

#include "tests/mockrc/state.h"

#include <civetweb.h>

//  Handle POST /restapi/oauth/token. Returns the HTTP status sent.
int token_handle(struct mg_connection *c, state_t *st, int arg);
//  Handle POST /restapi/oauth/revoke. Returns the HTTP status sent.
int token_revoke(struct mg_connection *c, state_t *st, int arg);

#endif
