//  state_save: the mock's logins kept in a file across restarts (state_save, state_load in state.h).
//
//  What is kept: the users' numbering and every login that can still be refreshed (its client, user,
//  endpoint, current access and refresh token and their expiries, as wall-clock times: the state's own
//  clock is monotonic and starts again with the process). Not kept: pending login pages, codes, rotated
//  tokens, rate limits, counters, faults, the configuration (the command line's again).
//  The file holds no token: only the SHA-256 of each (base64url), as a real server keeps them, which is enough to
//  recognise the token when a client presents it. (Version 1 files, which held the tokens themselves, are still
//  read.) Written 0600, next to the mock's other run files.
#include "tests/mockrc/state_priv.h"
#include "common/clock.h"

#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SAVE_FORMAT "mockrc-state"
#define SAVE_VERSION 2
#define SAVE_FILE_MAX ((size_t) 64 << 20)
#define SAVE_USERS_MAX 1000000
#define SAVE_GRANTS_MAX 1000000
#define SAVE_TIME_MAX ((json_int_t) 4102444800000)  //  2100-01-01 in ms: later expiries are not believed

uint64_t state_changes(state_t *self)
{
    pthread_rwlock_rdlock(&self->lock);
    uint64_t n = self->changes;
    pthread_rwlock_unlock(&self->lock);
    return n;
}

//  The document to save (called with the read lock). Returns NULL out of memory.
static json_t *s_export(state_t *self, int64_t now_mono, int64_t now_wall)
{
    json_t *grants = json_array();
    json_t *doc = json_pack("{s:s, s:i, s:I, s:I, s:o}", "format", SAVE_FORMAT, "version", SAVE_VERSION, "saved_at",
                            (json_int_t) now_wall, "users", (json_int_t) self->nusers, "grants", grants);
    if (!doc)
        return NULL;
    for (grant_t *g = self->grants; g; g = g->next) {
        if (g->revoked || !g->refresh || g->refresh->expires_ms <= now_mono)
            continue;
        size_t user = user_number(g->user);
        json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:I}", "client", self->clients[g->client].id, "user",
                              (json_int_t) user, "endpoint", g->endpoint_id, "refresh_sha256", g->refresh->hash,
                              "refresh_expires", (json_int_t) (g->refresh->expires_ms - now_mono + now_wall));
        if (o && g->access
            && (json_object_set_new(o, "access_sha256", json_string(g->access->hash)) != 0
                || json_object_set_new(o, "access_expires",
                                       json_integer((json_int_t) (g->access->expires_ms - now_mono + now_wall)))
                    != 0)) {
            json_decref(o);
            o = NULL;
        }
        if (!user || !o || json_array_append_new(grants, o) != 0) {
            json_decref(doc);
            return NULL;
        }
    }
    return doc;
}

int state_save(state_t *self, const char *path)
{
    pthread_rwlock_rdlock(&self->lock);
    json_t *doc = s_export(self, state_now_ms(), clock_now_ms());
    pthread_rwlock_unlock(&self->lock);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    char tmp[4200];
    if (!text || snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long) getpid()) >= (int) sizeof tmp) {
        free(text);
        log_error("mockrc.state_save_failed", "reason=\"out of memory or path too long\"");
        return -1;
    }
    //  Written whole to a temporary file, synced, then renamed over the old one: a crash leaves one or the other.
    size_t len = strlen(text);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && write(fd, text, len) == (ssize_t) len && fsync(fd) == 0;
    int saved_errno = errno;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    free(text);
    if (!ok || rename(tmp, path) != 0) {
        if (ok)
            saved_errno = errno;
        unlink(tmp);
        log_error("mockrc.state_save_failed", "path=%s reason=\"%s\"", path, strerror(saved_errno));
        return -1;
    }
    return 0;
}

//  An expiry from the file: wall-clock ms within 0 .. SAVE_TIME_MAX (so the arithmetic on it cannot overflow).
static bool s_time_ok(const json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= SAVE_TIME_MAX;
}

//  A token value as the mock makes them (rand_id): 1..RAND_ID_SIZE-1 characters of [A-Za-z0-9_-].
static bool s_token_ok(const char *v)
{
    size_t len = v ? strlen(v) : 0;
    return len > 0 && len < RAND_ID_SIZE
        && strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == len;
}

//  Add one token read from the file by its hash (version 1: its value) (called with the write lock). Returns NULL
//  when invalid or a duplicate.
static token_t *s_token_add(state_t *self, token_kind_t kind, grant_t *g, const char *hash, const char *value,
                            int64_t expires_ms)
{
    char from_value[RAND_ID_SIZE];
    if (value) {
        if (!s_token_ok(value) || !state_token_hash(value, from_value))
            return NULL;
        hash = from_value;
    }
    if (!s_token_ok(hash) || table_get(self->tokens, hash))
        return NULL;
    token_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    *t = (token_t){ .kind = kind, .grant = g, .expires_ms = expires_ms };
    snprintf(t->value, sizeof t->value, "%s", value ? value : "");
    snprintf(t->hash, sizeof t->hash, "%s", hash);
    if (table_put(self->tokens, t->hash, t) != 0) {
        free(t);
        return NULL;
    }
    return t;
}

//  Take in the grants of doc (called with the write lock, on an empty state). Returns the number of logins
//  taken in, or -1 with why (the state may hold part of them: the caller resets it).
static long s_import(state_t *self, json_t *doc, int64_t now_mono, int64_t now_wall, char *why, size_t why_size)
{
    const char *format = json_string_value(json_object_get(doc, "format"));
    json_t *users = json_object_get(doc, "users"), *grants = json_object_get(doc, "grants");
    json_int_t version = json_integer_value(json_object_get(doc, "version"));
    if (!format || strcmp(format, SAVE_FORMAT) != 0 || version < 1 || version > SAVE_VERSION || !json_is_integer(users)
        || json_integer_value(users) < 0 || json_integer_value(users) > SAVE_USERS_MAX || !json_is_array(grants)
        || json_array_size(grants) > SAVE_GRANTS_MAX) {
        snprintf(why, why_size, "not a mockrc state file of version 1 to %d (or over its bounds)", SAVE_VERSION);
        return -1;
    }
    size_t nusers = (size_t) json_integer_value(users);
    self->users = nusers ? calloc(nusers, sizeof *self->users) : NULL;
    if (nusers && !self->users) {
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    self->nusers = self->users_cap = nusers;
    long taken = 0;
    size_t i;
    json_t *o;
    json_array_foreach(grants, i, o)
    {
        const char *client = json_string_value(json_object_get(o, "client"));
        const char *endpoint = json_string_value(json_object_get(o, "endpoint"));
        //  Version 1 kept the tokens, version 2 their hashes.
        bool v1 = version == 1;
        const char *refresh = json_string_value(json_object_get(o, v1 ? "refresh" : "refresh_sha256"));
        const char *access = json_string_value(json_object_get(o, v1 ? "access" : "access_sha256"));
        json_t *user = json_object_get(o, "user"), *rexp = json_object_get(o, "refresh_expires");
        json_t *aexp = json_object_get(o, "access_expires");
        if (!client || !endpoint || strlen(endpoint) >= sizeof((grant_t *) 0)->endpoint_id || !json_is_integer(user)
            || json_integer_value(user) < 1 || (size_t) json_integer_value(user) > nusers || !s_time_ok(rexp)
            || (access && !s_time_ok(aexp))) {
            snprintf(why, why_size, "login %zu is malformed", i);
            return -1;
        }
        int c = state_client_find(self, client);
        int64_t refresh_ms = now_mono + (json_integer_value(rexp) - now_wall);
        if (c < 0 || refresh_ms <= now_mono)
            continue;  //  an app no longer registered, or a login that has run out meanwhile
        size_t u = (size_t) json_integer_value(user) - 1;
        if (!self->users[u] && !(self->users[u] = user_new((unsigned) u + 1, self->base_url))) {
            snprintf(why, why_size, "out of memory");
            return -1;
        }
        grant_t *g = calloc(1, sizeof *g);
        if (!g) {
            snprintf(why, why_size, "out of memory");
            return -1;
        }
        *g = (grant_t){ .next = self->grants, .client = c, .user = self->users[u] };
        snprintf(g->endpoint_id, sizeof g->endpoint_id, "%s", endpoint);
        self->grants = g;
        g->refresh = s_token_add(self, TOKEN_REFRESH, g, refresh, v1 ? refresh : NULL, refresh_ms);
        if (access)
            g->access = s_token_add(self, TOKEN_ACCESS, g, access, v1 ? access : NULL,
                                    now_mono + (json_integer_value(aexp) - now_wall));
        if (!g->refresh || (access && !g->access)) {
            snprintf(why, why_size, "login %zu has a malformed or repeated token", i);
            return -1;
        }
        taken++;
    }
    return taken;
}

long state_load(state_t *self, const char *path, char *why, size_t why_size)
{
    snprintf(why, why_size, "ok");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 0;
    struct stat st;
    char *data = NULL;
    ssize_t got = -1;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t) st.st_size <= SAVE_FILE_MAX
        && (data = malloc((size_t) st.st_size + 1)))
        got = read(fd, data, (size_t) st.st_size);
    if (fd >= 0)
        close(fd);
    if (got < 0 || got != (ssize_t) st.st_size) {
        free(data);
        snprintf(why, why_size, "cannot be read whole (or is over %zu bytes)", SAVE_FILE_MAX);
        return -1;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(data, (size_t) got, JSON_REJECT_DUPLICATES, &jerr);
    free(data);
    if (!json_is_object(doc)) {
        json_decref(doc);
        snprintf(why, why_size, "not a JSON object");
        return -1;
    }
    pthread_rwlock_wrlock(&self->lock);
    long taken = -1;
    if (self->grants || self->nusers)
        snprintf(why, why_size, "the state is not empty");
    else
        taken = s_import(self, doc, state_now_ms(), clock_now_ms(), why, why_size);
    pthread_rwlock_unlock(&self->lock);
    json_decref(doc);
    if (taken < 0)
        state_reset(self);  //  never half a state: start fresh
    return taken;
}
