//  api: the three RingCentral REST APIs the demo calls, answered from the
//  user's cached JSON (the hot path in benchmarks: a read-locked lookup and a send).
#ifndef MOCKRC_API_H_INCLUDED
#define MOCKRC_API_H_INCLUDED

#include "tests/mockrc/state.h"

#include <civetweb.h>

//  Handle GET of the API arg (a user_api_t). Returns the HTTP status sent.
int api_handle(struct mg_connection *c, state_t *st, int arg);

#endif
