//  state_priv: the state's records, shared by state.c and state_save.c (the file that saves and loads
//  them); nothing else includes this.
#ifndef MOCKRC_STATE_PRIV_H_INCLUDED
#define MOCKRC_STATE_PRIV_H_INCLUDED

#include "tests/mockrc/ratelimit.h"
#include "tests/mockrc/state.h"
#include "tests/mockrc/table.h"

#include <pthread.h>
#include <stdbool.h>

//  Records no longer usable are kept this long (so replays and reuse are
//  told from unknown values), then swept.
#define KEEP_DEAD_MS (10 * 60 * 1000)
#define SWEEP_EVERY 1024

typedef enum { TOKEN_ACCESS, TOKEN_REFRESH } token_kind_t;

typedef struct _grant_t grant_t;

typedef struct {
    token_kind_t kind;
    grant_t *grant;
    int64_t expires_ms;
    int64_t dead_after_ms;  //  a rotated refresh token: end of its grace window
    bool rotated;
    char value[RAND_ID_SIZE];  //  as issued; "" for a token loaded from the state file (only its hash is kept there)
    char hash[RAND_ID_SIZE];  //  base64url SHA-256 of the value: the key of state->tokens (as a real server keeps them)
} token_t;

//  One login: the token family issued from one code.
struct _grant_t {
    grant_t *next;
    int client;
    user_t *user;  //  borrowed from state->users
    char endpoint_id[24];
    bool revoked;
    token_t *access;  //  the current pair (NULL once swept)
    token_t *refresh;
};

typedef struct {
    state_authz_t req;
    user_t *user;  //  borrowed from state->users
    int64_t expires_ms;
    bool used;
    grant_t *grant;  //  what the exchange issued
} code_t;

typedef struct {
    state_authz_t req;
    int64_t expires_ms;
} pending_t;

struct _state_t {
    pthread_rwlock_t lock;
    state_client_t *clients;
    size_t nclients;
    state_config_t start_config;
    state_config_t config;
    char base_url[128];
    user_t **users;
    size_t nusers;
    size_t users_cap;
    grant_t *grants;
    table_t *pending;
    table_t *codes;
    table_t *tokens;
    ratelimit_t *rate;
    unsigned inserts;
    counters_t *counters;
    fault_queue_t *faults;
    pthread_mutex_t sleep_lock;
    pthread_cond_t sleep_cond;
    bool stopping;
    uint64_t changes;  //  +1 on every change worth saving (state_changes)
};

//  Record a change for state_changes (called with the write lock).
#define STATE_CHANGED(self) ((self)->changes++)

//  The key of a token in state->tokens: the base64url SHA-256 of its value, into out (RAND_ID_SIZE).
//  Returns false for a value that is no token (too long).
bool state_token_hash(const char *value, char out[RAND_ID_SIZE]);

#endif
