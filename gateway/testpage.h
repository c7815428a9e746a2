//  testpage: GET /test (state, API links, Logout) and GET /test?api=<name> (one API's answer).
#ifndef TESTPAGE_H_INCLUDED
#define TESTPAGE_H_INCLUDED

#include "gateway/request.h"

//  Serve /test or /test?api=: not logged in is a 302 to /; the JSON is re-indented in the
//  page, or sent raw when Accept prefers application/json. Returns the status sent.
int testpage_show(request_t *r);

#endif
