//  state: everything the mock RingCentral remembers, under one rwlock.
//
//  Clients (fixed at start), configuration, users, pending login pages,
//  authorization codes, logins ("grants": the token family issued from one
//  code), tokens and the Auth-group rate limiter. Every function locks for
//  itself; the API lookup takes the shared (read) lock, the rest the
//  exclusive one. Counters and the fault queue hang off the state so a
//  handler needs only the state.
#ifndef MOCKRC_STATE_H_INCLUDED
#define MOCKRC_STATE_H_INCLUDED

#include "common/rand.h"
#include "tests/mockrc/counters.h"
#include "tests/mockrc/fault.h"
#include "tests/mockrc/user.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATE_CLIENT_ID_MAX 128  //  bytes with the NUL, for client id and secret
#define STATE_URI_MAX 512        //  redirect URI
#define STATE_STATE_MAX 512      //  the OAuth state parameter
#define STATE_CHALLENGE_MAX 129  //  PKCE challenge (43 for S256) and verifier (43..128)
#define STATE_PENDING_TTL_MS (10 * 60 * 1000)
#define STATE_AUTH_LIMIT 5  //  Auth group: requests per user and app per window

typedef struct {
    char id[STATE_CLIENT_ID_MAX];
    char secret[STATE_CLIENT_ID_MAX];
    char redirect_uri[STATE_URI_MAX];
} state_client_t;

typedef struct {
    bool auto_approve;      //  authorize answers 302 at once instead of the login page
    long latency_ms;        //  added to every RingCentral endpoint
    bool auth_limit;        //  enforce the Auth-group limit
    long auth_window_ms;    //  the limit's window and penalty (60000)
    long refresh_grace_ms;  //  how long a rotated refresh token still works (0)
    long access_ttl;        //  seconds (3600)
    long refresh_ttl;       //  seconds (604800)
    long code_ttl;          //  seconds (60)
} state_config_t;

//  A validated authorize request (what a login page or a code remembers).
typedef struct {
    int client;
    char redirect_uri[STATE_URI_MAX];
    char state[STATE_STATE_MAX];
    bool has_state;
    char challenge[STATE_CHALLENGE_MAX];
} state_authz_t;

typedef enum {
    STATE_OK,
    STATE_NOT_FOUND,  //  unknown code or token (or an access token that is no longer current)
    STATE_USED,       //  code already exchanged (the login it gave is now revoked)
    STATE_EXPIRED,
    STATE_WRONG_CLIENT,  //  issued to another client
    STATE_REDIRECT_MISMATCH,
    STATE_BAD_VERIFIER,  //  missing, malformed, or its S256 is not the challenge
    STATE_REVOKED,       //  the login was revoked
    STATE_ROTATED,       //  a refresh token already rotated, past its grace
    STATE_RATE_LIMITED,
} state_result_t;

//  What the token and revoke operations give back.
typedef struct {
    char access[RAND_ID_SIZE];
    char refresh[RAND_ID_SIZE];
    long expires_in;
    long refresh_expires_in;
    char owner_id[24];
    char endpoint_id[24];
    bool grace;          //  a rotated refresh token was accepted within its grace window
    int rate_remaining;  //  Auth-group requests left, or -1 when the limit did not apply
    long rate_window_s;  //  the limit's window (and Retry-After) in seconds
} state_tokens_t;

typedef struct _state_t state_t;

//  Fill cfg with the built-in defaults.
void state_config_defaults(state_config_t *cfg);
//  Parse "ID:SECRET:REDIRECT_URI" (split on the first two ':'). Returns 0, or -1 when malformed or too long.
int state_client_parse(const char *arg, state_client_t *out);

//  Create the state for clients, with config (also what reset returns to). Returns NULL when out of memory.
state_t *state_new(const state_client_t *clients, size_t count, const state_config_t *config);
//  Destroy the state and set *self_p to NULL. Safe with NULL.
void state_destroy(state_t **self_p);
//  Set the base URL used in the API bodies ("http://127.0.0.1:PORT"); call before serving.
void state_set_base_url(state_t *self, const char *url);
//  The counters. Never NULL.
counters_t *state_counters(state_t *self);
//  The fault queue. Never NULL.
fault_queue_t *state_faults(state_t *self);
//  Copy the current configuration into out.
void state_config_get(state_t *self, state_config_t *out);
//  Replace the configuration.
void state_config_set(state_t *self, const state_config_t *cfg);

//  The index of the client with id. Returns -1 when unknown.
int state_client_find(const state_t *self, const char *id);
//  The client at index (from state_client_find). Returns NULL when out of range.
const state_client_t *state_client(const state_t *self, int index);
//  The index of the client with id and secret (compared in constant time). Returns -1 when they do not match.
int state_client_auth(const state_t *self, const char *id, const char *secret);

//  Remember a validated request behind a login page; its id (valid 10 minutes) into id_out. Returns 0, or -1.
int state_pending_add(state_t *self, const state_authz_t *req, char id_out[RAND_ID_SIZE]);
//  Take (once) the request behind a login page. Returns 0, or -1 when unknown or expired.
int state_pending_take(state_t *self, const char *id, state_authz_t *out);
//  Approve req: create a new user and an authorization code for it (into code_out). Returns 0, or -1.
int state_code_issue(state_t *self, const state_authz_t *req, char code_out[RAND_ID_SIZE]);

//  Exchange a code for tokens (client is the authenticated client's index). Returns STATE_OK or why not.
state_result_t state_exchange(state_t *self, int client, const char *code, const char *redirect_uri,
                              const char *verifier, state_tokens_t *out);
//  Rotate a refresh token into a new pair. Returns STATE_OK or why not.
state_result_t state_refresh(state_t *self, int client, const char *refresh, state_tokens_t *out);
//  Revoke the login a token (access or refresh) belongs to. Returns STATE_OK, STATE_NOT_FOUND
//  (unknown or already revoked), STATE_WRONG_CLIENT or STATE_RATE_LIMITED.
state_result_t state_revoke(state_t *self, int client, const char *token, state_tokens_t *out);
//  The user behind a live access token, with a reference the caller drops with user_unref.
//  Returns STATE_OK, STATE_EXPIRED, or STATE_NOT_FOUND (unknown, superseded or revoked).
state_result_t state_api_user(state_t *self, const char *access, user_t **user_out);

//  Expire every access token now.
void state_expire_all(state_t *self);
//  Revoke every login (every token becomes invalid).
void state_revoke_all(state_t *self);
//  Forget users, codes, tokens, counters and faults, and restore the start configuration.
void state_reset(state_t *self);
//  {"access":[...],"refresh":[...],"codes":[...]}: the live ones, or every one ever kept when all.
//  Returns NULL when out of memory.
json_t *state_tokens_json(state_t *self, bool all);

//  The number of changes worth saving so far (logins, refreshes, revokes, expire-all, reset): save when it moved.
uint64_t state_changes(state_t *self);
//  Write the logins that can still be refreshed (and the users' numbering) to path, atomically (a temporary file,
//  synced, renamed over it; mode 0600). Returns 0, or -1 (logged). (state_save.c)
int state_save(state_t *self, const char *path);
//  Read what state_save wrote into a new, empty state (after state_set_base_url). Returns the number of logins
//  taken in, 0 when there is no file, or -1 with why when it is not valid (bounded and checked: a corrupt file
//  never crashes; the state is then left empty).
long state_load(state_t *self, const char *path, char *why, size_t why_size);

//  Sleep ms milliseconds, or less when state_stop is called.
void state_sleep_ms(state_t *self, long ms);
//  Wake every sleeper and make later sleeps return at once (shutdown).
void state_stop(state_t *self);
//  Milliseconds on the monotonic clock.
int64_t state_now_ms(void);

#endif
