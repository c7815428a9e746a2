//  user: one mock RingCentral user (one per approved login) and its API data.
//
//  The extension list is built once, on the first API call of the user (not at login), so that
//  path is then a lookup and a send; the call logs are built per request (they honour the query). A user is reference counted: the state holds
//  one reference, a request being answered holds another.
#ifndef MOCKRC_USER_H_INCLUDED
#define MOCKRC_USER_H_INCLUDED

#include <stddef.h>

typedef enum {
    USER_API_EXTENSION,           //  GET /restapi/v1.0/account/~/extension
    USER_API_EXTENSION_CALL_LOG,  //  GET /restapi/v1.0/account/~/extension/~/call-log
    USER_API_ACCOUNT_CALL_LOG,    //  GET /restapi/v1.0/account/~/call-log
    USER_API_COUNT
} user_api_t;

typedef struct _user_t user_t;

//  Create user number n (1, 2, ...), with URIs under base_url. Returns NULL when out of memory.
user_t *user_new(unsigned n, const char *base_url);
//  Take one more reference. Returns self.
user_t *user_ref(user_t *self);
//  Drop one reference (freeing the user with the last one) and set *self_p to NULL. Safe with NULL.
void user_unref(user_t **self_p);
//  The owner_id of the token response ("100001" for user 1); also the user's extension id.
const char *user_owner_id(const user_t *self);
//  The user's number n (user_new).
unsigned user_number(const user_t *self);
//  The user's extension name ("Mock User 1").
const char *user_name(const user_t *self);
//  The JSON body of the extension list for this user (built on first use), its length in *len; "" for any
//  other api; NULL when it cannot be built (out of memory).
const char *user_api_body(user_t *self, user_api_t api, size_t *len);
//  The answer of api for this user to query (the request's query string, NULL for none): a malloc'd JSON body,
//  its length in *len. The call logs are built per request: 24 calls of the user (36 with the reception's on
//  the account log) over the 14 days before the login, 5 of them in the last 24 hours, newest first, filtered
//  by dateFrom (default: 24 h before dateTo), dateTo (default now), direction and type, paged by page and
//  perPage (default 100) with paging and navigation as RingCentral writes them; view=Detailed adds legs[].
//  Returns NULL with *bad naming a parameter RingCentral would refuse, or NULL (*bad NULL) out of memory.
char *user_api_answer(user_t *self, user_api_t api, const char *query, size_t *len, const char **bad);

#endif
