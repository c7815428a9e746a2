//  state: see state.h.
#include "tests/mockrc/state.h"
#include "common/clock.h"
#include "tests/mockrc/state_priv.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t state_now_ms(void)
{
    return clock_mono_ms();
}

void state_config_defaults(state_config_t *cfg)
{
    *cfg = (state_config_t){
        .auto_approve = false,
        .latency_ms = 0,
        .auth_limit = false,
        .auth_window_ms = 60000,
        .refresh_grace_ms = 0,
        .access_ttl = 3600,
        .refresh_ttl = 604800,
        .code_ttl = 60,
    };
}

int state_client_parse(const char *arg, state_client_t *out)
{
    memset(out, 0, sizeof *out);
    const char *c1 = arg ? strchr(arg, ':') : NULL;
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2 || c1 == arg || c2 == c1 + 1 || !c2[1])
        return -1;
    size_t id_len = (size_t) (c1 - arg);
    size_t secret_len = (size_t) (c2 - c1 - 1);
    if (id_len >= sizeof out->id || secret_len >= sizeof out->secret || strlen(c2 + 1) >= sizeof out->redirect_uri)
        return -1;
    memcpy(out->id, arg, id_len);
    memcpy(out->secret, c1 + 1, secret_len);
    memcpy(out->redirect_uri, c2 + 1, strlen(c2 + 1) + 1);
    return 0;
}

//  ---------------------------------------------------------------------------
//  Creation, reset, destruction

static void s_free_all(state_t *self)
{
    table_destroy(&self->pending, free);
    table_destroy(&self->codes, free);
    table_destroy(&self->tokens, free);
    while (self->grants) {
        grant_t *next = self->grants->next;
        free(self->grants);
        self->grants = next;
    }
    for (size_t i = 0; i < self->nusers; i++)
        user_unref(&self->users[i]);
    self->nusers = 0;
    if (self->rate)
        ratelimit_clear(self->rate);
}

static int s_make_tables(state_t *self)
{
    self->pending = table_new();
    self->codes = table_new();
    self->tokens = table_new();
    return self->pending && self->codes && self->tokens ? 0 : -1;
}

state_t *state_new(const state_client_t *clients, size_t count, const state_config_t *config)
{
    state_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    pthread_rwlock_init(&self->lock, NULL);
    pthread_mutex_init(&self->sleep_lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&self->sleep_cond, &attr);
    pthread_condattr_destroy(&attr);
    self->clients = calloc(count ? count : 1, sizeof *self->clients);
    if (self->clients && count)
        memcpy(self->clients, clients, count * sizeof *clients);
    self->nclients = count;
    self->start_config = *config;
    self->config = *config;
    self->rate = ratelimit_new();
    self->counters = counters_new();
    self->faults = fault_queue_new();
    if (!self->clients || !self->rate || !self->counters || !self->faults || s_make_tables(self) != 0)
        state_destroy(&self);
    return self;
}

void state_destroy(state_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    state_t *self = *self_p;
    s_free_all(self);
    free(self->users);
    ratelimit_destroy(&self->rate);
    counters_destroy(&self->counters);
    fault_queue_destroy(&self->faults);
    free(self->clients);
    pthread_cond_destroy(&self->sleep_cond);
    pthread_mutex_destroy(&self->sleep_lock);
    pthread_rwlock_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

void state_reset(state_t *self)
{
    pthread_rwlock_wrlock(&self->lock);
    s_free_all(self);
    if (s_make_tables(self) != 0) {
        //  Out of memory: there is no way to carry on serving correctly.
        fprintf(stderr, "mockrc: out of memory in reset\n");
        abort();
    }
    self->config = self->start_config;
    self->inserts = 0;
    counters_reset(self->counters);
    fault_queue_clear(self->faults);
    STATE_CHANGED(self);
    pthread_rwlock_unlock(&self->lock);
}

void state_set_base_url(state_t *self, const char *url)
{
    pthread_rwlock_wrlock(&self->lock);
    snprintf(self->base_url, sizeof self->base_url, "%s", url);
    pthread_rwlock_unlock(&self->lock);
}

counters_t *state_counters(state_t *self)
{
    return self->counters;
}

fault_queue_t *state_faults(state_t *self)
{
    return self->faults;
}

void state_config_get(state_t *self, state_config_t *out)
{
    pthread_rwlock_rdlock(&self->lock);
    *out = self->config;
    pthread_rwlock_unlock(&self->lock);
}

void state_config_set(state_t *self, const state_config_t *cfg)
{
    pthread_rwlock_wrlock(&self->lock);
    self->config = *cfg;
    pthread_rwlock_unlock(&self->lock);
}

//  ---------------------------------------------------------------------------
//  Clients (fixed at start: no lock needed)

int state_client_find(const state_t *self, const char *id)
{
    for (size_t i = 0; id && i < self->nclients; i++)
        if (strcmp(self->clients[i].id, id) == 0)
            return (int) i;
    return -1;
}

const state_client_t *state_client(const state_t *self, int index)
{
    return index >= 0 && (size_t) index < self->nclients ? &self->clients[index] : NULL;
}

int state_client_auth(const state_t *self, const char *id, const char *secret)
{
    int index = state_client_find(self, id);
    if (index < 0 || !secret)
        return -1;
    const char *want = self->clients[index].secret;
    size_t len = strlen(want);
    if (strlen(secret) != len || sodium_memcmp(want, secret, len) != 0)
        return -1;
    return index;
}

//  ---------------------------------------------------------------------------
//  Sweeping of records that can no longer matter (called with the write lock)

static int s_sweep_pending(const char *key, void *value, void *arg)
{
    (void) key;
    pending_t *p = value;
    if (*(int64_t *) arg < p->expires_ms)
        return 0;
    free(p);
    return 1;
}

static int s_sweep_code(const char *key, void *value, void *arg)
{
    (void) key;
    code_t *c = value;
    if (*(int64_t *) arg < c->expires_ms + KEEP_DEAD_MS)
        return 0;
    free(c);
    return 1;
}

static int s_sweep_token(const char *key, void *value, void *arg)
{
    (void) key;
    token_t *t = value;
    if (*(int64_t *) arg < t->expires_ms + KEEP_DEAD_MS)
        return 0;
    if (t->grant->access == t)
        t->grant->access = NULL;
    if (t->grant->refresh == t)
        t->grant->refresh = NULL;
    free(t);
    return 1;
}

static void s_inserted(state_t *self, int64_t now)
{
    if (++self->inserts % SWEEP_EVERY != 0)
        return;
    table_sweep(self->pending, s_sweep_pending, &now);
    table_sweep(self->codes, s_sweep_code, &now);
    table_sweep(self->tokens, s_sweep_token, &now);
}

//  ---------------------------------------------------------------------------
//  Authorize

int state_pending_add(state_t *self, const state_authz_t *req, char id_out[RAND_ID_SIZE])
{
    pending_t *p = malloc(sizeof *p);
    if (!p || rand_id(id_out, RAND_ID_SIZE) != 0) {
        free(p);
        return -1;
    }
    p->req = *req;
    pthread_rwlock_wrlock(&self->lock);
    int64_t now = state_now_ms();
    p->expires_ms = now + STATE_PENDING_TTL_MS;
    int rc = table_put(self->pending, id_out, p);
    if (rc == 0)
        s_inserted(self, now);
    pthread_rwlock_unlock(&self->lock);
    if (rc != 0)
        free(p);
    return rc;
}

int state_pending_take(state_t *self, const char *id, state_authz_t *out)
{
    pthread_rwlock_wrlock(&self->lock);
    pending_t *p = table_take(self->pending, id);
    pthread_rwlock_unlock(&self->lock);
    int rc = p && state_now_ms() < p->expires_ms ? 0 : -1;
    if (rc == 0)
        *out = p->req;
    free(p);
    return rc;
}

int state_code_issue(state_t *self, const state_authz_t *req, char code_out[RAND_ID_SIZE])
{
    code_t *c = calloc(1, sizeof *c);
    if (!c || rand_id(code_out, RAND_ID_SIZE) != 0) {
        free(c);
        return -1;
    }
    c->req = *req;
    int rc = -1;
    pthread_rwlock_wrlock(&self->lock);
    if (self->nusers == self->users_cap) {
        size_t cap = self->users_cap ? self->users_cap * 2 : 64;
        user_t **users = realloc(self->users, cap * sizeof *users);
        if (users) {
            self->users = users;
            self->users_cap = cap;
        }
    }
    if (self->nusers < self->users_cap) {
        c->user = user_new((unsigned) self->nusers + 1, self->base_url);
        if (c->user) {
            int64_t now = state_now_ms();
            c->expires_ms = now + self->config.code_ttl * 1000;
            self->users[self->nusers++] = c->user;
            rc = table_put(self->codes, code_out, c);
            if (rc == 0)
                s_inserted(self, now);
        }
    }
    pthread_rwlock_unlock(&self->lock);
    if (rc != 0)
        free(c);
    return rc;
}

//  ---------------------------------------------------------------------------
//  Token operations (called with the write lock)

//  The Auth-group limit for the user and client of a grant. Returns 1 when limited.
static int s_rate_limited(state_t *self, const user_t *user, int client, int64_t now, state_tokens_t *out)
{
    out->rate_remaining = -1;
    out->rate_window_s = (self->config.auth_window_ms + 999) / 1000;
    if (!self->config.auth_limit)
        return 0;
    char key[64];
    snprintf(key, sizeof key, "%s:%d", user_owner_id(user), client);
    return ratelimit_hit(self->rate, key, now, STATE_AUTH_LIMIT, self->config.auth_window_ms, &out->rate_remaining);
}

bool state_token_hash(const char *value, char out[RAND_ID_SIZE])
{
    return value && strlen(value) < RAND_ID_SIZE && rand_pkce_challenge(value, out, RAND_ID_SIZE) == 0;
}

//  The token whose value is value, or NULL (called with the lock).
static token_t *s_token_find(state_t *self, const char *value)
{
    char hash[RAND_ID_SIZE];
    return state_token_hash(value, hash) ? table_get(self->tokens, hash) : NULL;
}

static token_t *s_token_new(state_t *self, token_kind_t kind, grant_t *grant, int64_t expires_ms)
{
    token_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->kind = kind;
    t->grant = grant;
    t->expires_ms = expires_ms;
    if (rand_id(t->value, sizeof t->value) != 0 || !state_token_hash(t->value, t->hash)
        || table_put(self->tokens, t->hash, t) != 0) {
        free(t);
        return NULL;
    }
    return t;
}

//  Issue a new pair for grant: the old access token is superseded at once, the
//  old refresh token is rotated (it works for refresh_grace_ms more).
static state_result_t s_issue(state_t *self, grant_t *grant, int64_t now, state_tokens_t *out)
{
    token_t *access = s_token_new(self, TOKEN_ACCESS, grant, now + self->config.access_ttl * 1000);
    token_t *refresh = s_token_new(self, TOKEN_REFRESH, grant, now + self->config.refresh_ttl * 1000);
    if (!access || !refresh) {
        if (access)
            free(table_take(self->tokens, access->hash));
        if (refresh)
            free(table_take(self->tokens, refresh->hash));
        return STATE_NOT_FOUND;
    }
    if (grant->refresh) {
        grant->refresh->rotated = true;
        grant->refresh->dead_after_ms = now + self->config.refresh_grace_ms;
    }
    grant->access = access;
    grant->refresh = refresh;
    snprintf(out->access, sizeof out->access, "%s", access->value);
    snprintf(out->refresh, sizeof out->refresh, "%s", refresh->value);
    out->expires_in = self->config.access_ttl;
    out->refresh_expires_in = self->config.refresh_ttl;
    snprintf(out->owner_id, sizeof out->owner_id, "%s", user_owner_id(grant->user));
    snprintf(out->endpoint_id, sizeof out->endpoint_id, "%s", grant->endpoint_id);
    s_inserted(self, now);
    STATE_CHANGED(self);
    return STATE_OK;
}

//  RFC 7636: 43 to 128 characters of [A-Za-z0-9-._~], and S256 of it equals the challenge.
static int s_verifier_ok(const char *verifier, const char *challenge)
{
    size_t len = verifier ? strlen(verifier) : 0;
    if (len < 43 || len > 128
        || strspn(verifier, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") != len)
        return 0;
    char computed[STATE_CHALLENGE_MAX];
    if (rand_pkce_challenge(verifier, computed, sizeof computed) != 0)
        return 0;
    size_t clen = strlen(challenge);
    return strlen(computed) == clen && sodium_memcmp(computed, challenge, clen) == 0;
}

state_result_t state_exchange(state_t *self, int client, const char *code, const char *redirect_uri,
                              const char *verifier, state_tokens_t *out)
{
    memset(out, 0, sizeof *out);
    out->rate_remaining = -1;
    if (!code)
        return STATE_NOT_FOUND;
    pthread_rwlock_wrlock(&self->lock);
    int64_t now = state_now_ms();
    state_result_t rc = STATE_OK;
    code_t *c = table_get(self->codes, code);
    if (!c)
        rc = STATE_NOT_FOUND;
    else if (s_rate_limited(self, c->user, client, now, out))
        rc = STATE_RATE_LIMITED;
    else if (c->used) {
        //  RFC 6749 10.5: a code used twice revokes what it issued.
        if (c->grant)
            c->grant->revoked = true;
        rc = STATE_USED;
    }
    else if (now >= c->expires_ms)
        rc = STATE_EXPIRED;
    else if (c->req.client != client)
        rc = STATE_WRONG_CLIENT;
    else if (!redirect_uri || strcmp(redirect_uri, c->req.redirect_uri) != 0)
        rc = STATE_REDIRECT_MISMATCH;
    else if (!s_verifier_ok(verifier, c->req.challenge))
        rc = STATE_BAD_VERIFIER;
    else {
        grant_t *g = calloc(1, sizeof *g);
        char endpoint[RAND_ID_SIZE];
        if (!g || rand_id(endpoint, sizeof endpoint) != 0) {
            free(g);
            rc = STATE_NOT_FOUND;
        }
        else {
            g->client = client;
            g->user = c->user;
            snprintf(g->endpoint_id, sizeof g->endpoint_id, "%.22s", endpoint);
            g->next = self->grants;
            self->grants = g;
            rc = s_issue(self, g, now, out);
            if (rc == STATE_OK) {
                c->used = true;
                c->grant = g;
            }
        }
    }
    pthread_rwlock_unlock(&self->lock);
    return rc;
}

state_result_t state_refresh(state_t *self, int client, const char *refresh, state_tokens_t *out)
{
    memset(out, 0, sizeof *out);
    out->rate_remaining = -1;
    if (!refresh)
        return STATE_NOT_FOUND;
    pthread_rwlock_wrlock(&self->lock);
    int64_t now = state_now_ms();
    state_result_t rc = STATE_OK;
    token_t *t = s_token_find(self, refresh);
    if (!t || t->kind != TOKEN_REFRESH)
        rc = STATE_NOT_FOUND;
    else if (s_rate_limited(self, t->grant->user, client, now, out))
        rc = STATE_RATE_LIMITED;
    else if (t->grant->client != client)
        rc = STATE_WRONG_CLIENT;
    else if (t->grant->revoked)
        rc = STATE_REVOKED;
    else if (now >= t->expires_ms)
        rc = STATE_EXPIRED;
    else if (t != t->grant->refresh && !(t->rotated && now < t->dead_after_ms))
        rc = STATE_ROTATED;
    else {
        out->grace = t != t->grant->refresh;
        rc = s_issue(self, t->grant, now, out);
    }
    pthread_rwlock_unlock(&self->lock);
    return rc;
}

state_result_t state_revoke(state_t *self, int client, const char *token, state_tokens_t *out)
{
    memset(out, 0, sizeof *out);
    out->rate_remaining = -1;
    if (!token)
        return STATE_NOT_FOUND;
    pthread_rwlock_wrlock(&self->lock);
    state_result_t rc = STATE_OK;
    token_t *t = s_token_find(self, token);
    if (!t)
        rc = STATE_NOT_FOUND;
    else if (s_rate_limited(self, t->grant->user, client, state_now_ms(), out))
        rc = STATE_RATE_LIMITED;
    else if (t->grant->client != client)
        rc = STATE_WRONG_CLIENT;
    else if (t->grant->revoked)
        rc = STATE_NOT_FOUND;
    else {
        t->grant->revoked = true;
        STATE_CHANGED(self);
    }
    pthread_rwlock_unlock(&self->lock);
    return rc;
}

state_result_t state_api_user(state_t *self, const char *access, user_t **user_out)
{
    *user_out = NULL;
    if (!access)
        return STATE_NOT_FOUND;
    pthread_rwlock_rdlock(&self->lock);
    state_result_t rc = STATE_NOT_FOUND;
    token_t *t = s_token_find(self, access);
    if (t && t->kind == TOKEN_ACCESS && !t->grant->revoked && t->grant->access == t) {
        if (state_now_ms() >= t->expires_ms)
            rc = STATE_EXPIRED;
        else {
            *user_out = user_ref(t->grant->user);
            rc = STATE_OK;
        }
    }
    pthread_rwlock_unlock(&self->lock);
    return rc;
}

//  ---------------------------------------------------------------------------
//  Control

static int s_expire_access(const char *key, void *value, void *arg)
{
    (void) key;
    token_t *t = value;
    int64_t now = *(int64_t *) arg;
    if (t->kind == TOKEN_ACCESS && t->expires_ms > now)
        t->expires_ms = now;
    return 0;
}

void state_expire_all(state_t *self)
{
    pthread_rwlock_wrlock(&self->lock);
    int64_t now = state_now_ms();
    table_sweep(self->tokens, s_expire_access, &now);
    STATE_CHANGED(self);
    pthread_rwlock_unlock(&self->lock);
}

void state_revoke_all(state_t *self)
{
    pthread_rwlock_wrlock(&self->lock);
    for (grant_t *g = self->grants; g; g = g->next)
        g->revoked = true;
    STATE_CHANGED(self);
    pthread_rwlock_unlock(&self->lock);
}

typedef struct {
    json_t *access;
    json_t *refresh;
    json_t *codes;
    int64_t now;
    bool all;
} listing_t;

static int s_list_token(const char *key, void *value, void *arg)
{
    (void) key;  //  the hash
    listing_t *l = arg;
    token_t *t = value;
    if (!t->value[0])
        return 0;  //  loaded from the state file: its value is not known any more
    bool live = !t->grant->revoked && l->now < t->expires_ms
        && (t->kind == TOKEN_ACCESS ? t->grant->access == t : t->grant->refresh == t || l->now < t->dead_after_ms);
    if (l->all || live)
        json_array_append_new(t->kind == TOKEN_ACCESS ? l->access : l->refresh, json_string(t->value));
    return 0;
}

static int s_list_code(const char *key, void *value, void *arg)
{
    listing_t *l = arg;
    code_t *c = value;
    if (l->all || (!c->used && l->now < c->expires_ms))
        json_array_append_new(l->codes, json_string(key));
    return 0;
}

json_t *state_tokens_json(state_t *self, bool all)
{
    listing_t l = { json_array(), json_array(), json_array(), 0, all };
    json_t *result = json_pack("{s:o, s:o, s:o}", "access", l.access, "refresh", l.refresh, "codes", l.codes);
    if (!result)
        return NULL;
    pthread_rwlock_rdlock(&self->lock);
    l.now = state_now_ms();
    table_sweep(self->tokens, s_list_token, &l);
    table_sweep(self->codes, s_list_code, &l);
    pthread_rwlock_unlock(&self->lock);
    return result;
}

//  ---------------------------------------------------------------------------
//  Sleeping (latency and slow faults) that shutdown can cut short

void state_sleep_ms(state_t *self, long ms)
{
    if (ms <= 0)
        return;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&self->sleep_lock);
    while (!self->stopping)
        if (pthread_cond_timedwait(&self->sleep_cond, &self->sleep_lock, &deadline) != 0)
            break;
    pthread_mutex_unlock(&self->sleep_lock);
}

void state_stop(state_t *self)
{
    pthread_mutex_lock(&self->sleep_lock);
    self->stopping = true;
    pthread_cond_broadcast(&self->sleep_cond);
    pthread_mutex_unlock(&self->sleep_lock);
}
