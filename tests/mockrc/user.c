//  user: see user.h.
#include "tests/mockrc/user.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALLS_PER_USER 3

struct _user_t {
    atomic_int refs;
    unsigned n;
    unsigned long account_id;
    unsigned long extension_id;
    char owner_id[24];
    char name[48];
    char number[24];            //  the user's direct phone number
    char base[256];             //  the mock's base URL, for the URIs in the bodies
    //  The bodies are built on the first API call, not at login: most logins of a load test
    //  never call an API, and building them (jansson) was the largest part of a mock login.
    pthread_mutex_t build_lock;
    atomic_bool built;
    int build_rc;
    char *body[USER_API_COUNT];
    size_t len[USER_API_COUNT];
};

//  RingCentral's paging: list APIs give totals, call logs do not.
static json_t *s_paging(int count, int with_totals)
{
    int end = count > 0 ? count - 1 : 0;
    if (with_totals)
        return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "page", 1, "totalPages", 1, "perPage", 100,
                         "totalElements", count, "pageStart", 0, "pageEnd", end);
    return json_pack("{s:i, s:i, s:i, s:i}", "page", 1, "perPage", 100, "pageStart", 0, "pageEnd", end);
}

static json_t *s_navigation(const char *uri)
{
    return json_pack("{s:{s:s}, s:{s:s}}", "firstPage", "uri", uri, "lastPage", "uri", uri);
}

static json_t *s_extension(const user_t *self, const char *base, unsigned long id, const char *number,
                           const char *name, const char *type)
{
    char uri[512];
    snprintf(uri, sizeof uri, "%s/restapi/v1.0/account/%lu/extension/%lu", base, self->account_id, id);
    char account[24];
    snprintf(account, sizeof account, "%lu", self->account_id);
    return json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:{s:s}}", "uri", uri, "id", (json_int_t) id,
                     "extensionNumber", number, "name", name, "type", type, "status", "Enabled",
                     "account", "id", account);
}

//  Call i of the user (deterministic: the same n gives the same calls).
static json_t *s_call(const user_t *self, const char *base, unsigned i, unsigned long ext_id,
                      const char *ext_name, const char *ext_number)
{
    unsigned n = self->n;
    char id[48], uri[512], session[32], start[32], other[24], other_name[48];
    snprintf(id, sizeof id, "CL%uX%u", n, i);
    snprintf(uri, sizeof uri, "%s/restapi/v1.0/account/%lu/extension/%lu/call-log/%s", base,
             self->account_id, ext_id, id);
    snprintf(session, sizeof session, "%lu", 40000000000UL + n * 100UL + i);
    snprintf(start, sizeof start, "2024-03-%02uT%02u:%02u:%02u.000Z", 1 + n % 28, (9 + i * 2) % 24,
             (n * 7 + i * 13) % 60, (n + i) % 60);
    snprintf(other, sizeof other, "+1650555%04u", (n * 10 + i) % 10000);
    snprintf(other_name, sizeof other_name, "Caller %u-%u", n, i);
    int inbound = i % 2 == 0;
    const char *result = inbound ? (i % 3 == 2 ? "Missed" : "Accepted") : "Call connected";
    json_t *me = json_pack("{s:s, s:s, s:I}", "phoneNumber", ext_number, "name", ext_name,
                           "extensionId", (json_int_t) ext_id);
    json_t *them = json_pack("{s:s, s:s}", "phoneNumber", other, "name", other_name);
    return json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:o, s:o}", "uri", uri, "id", id,
                     "sessionId", session, "startTime", start, "duration", (int) (30 + (n * 37 + i * 53) % 600),
                     "type", "Voice", "direction", inbound ? "Inbound" : "Outbound", "action", "Phone Call",
                     "result", result, "from", inbound ? them : me, "to", inbound ? me : them);
}

static json_t *s_list(const char *uri, json_t *records, int with_totals)
{
    if (!records)
        return NULL;
    json_t *paging = s_paging((int) json_array_size(records), with_totals);
    return json_pack("{s:s, s:o, s:o, s:o}", "uri", uri, "records", records, "paging", paging,
                     "navigation", s_navigation(uri));
}

static int s_store(user_t *self, user_api_t api, json_t *body)
{
    if (!body)
        return -1;
    self->body[api] = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!self->body[api])
        return -1;
    self->len[api] = strlen(self->body[api]);
    return 0;
}

static int s_build(user_t *self, const char *base)
{
    unsigned long reception_id = self->extension_id + 50000;
    char reception[48], uri[512];
    snprintf(reception, sizeof reception, "Reception %u", self->n);

    json_t *exts = json_pack("[o, o]",
                             s_extension(self, base, self->extension_id, "101", self->name, "User"),
                             s_extension(self, base, reception_id, "102", reception, "Department"));
    snprintf(uri, sizeof uri, "%s/restapi/v1.0/account/%lu/extension?page=1&perPage=100", base, self->account_id);
    if (s_store(self, USER_API_EXTENSION, s_list(uri, exts, 1)) != 0)
        return -1;

    json_t *mine = json_array();
    json_t *all = json_array();
    for (unsigned i = 0; mine && all && i < CALLS_PER_USER; i++) {
        json_t *call = s_call(self, base, i, self->extension_id, self->name, self->number);
        json_array_append_new(mine, call);
        json_array_append(all, call);
    }
    if (all)
        json_array_append_new(all, s_call(self, base, CALLS_PER_USER, reception_id, reception, "+14155550000"));
    snprintf(uri, sizeof uri, "%s/restapi/v1.0/account/%lu/extension/%lu/call-log?view=Simple&page=1&perPage=100",
             base, self->account_id, self->extension_id);
    int rc = s_store(self, USER_API_EXTENSION_CALL_LOG, s_list(uri, mine, 0));
    snprintf(uri, sizeof uri, "%s/restapi/v1.0/account/%lu/call-log?view=Simple&page=1&perPage=100", base,
             self->account_id);
    if (s_store(self, USER_API_ACCOUNT_CALL_LOG, s_list(uri, all, 0)) != 0)
        rc = -1;
    return rc;
}

user_t *user_new(unsigned n, const char *base_url)
{
    user_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    atomic_init(&self->refs, 1);
    self->n = n;
    self->account_id = 400000000UL + n;
    self->extension_id = 100000UL + n;
    snprintf(self->owner_id, sizeof self->owner_id, "%lu", self->extension_id);
    snprintf(self->name, sizeof self->name, "Mock User %u", n);
    snprintf(self->number, sizeof self->number, "+1415555%04u", n % 10000);
    snprintf(self->base, sizeof self->base, "%s", base_url ? base_url : "");
    pthread_mutex_init(&self->build_lock, NULL);
    atomic_init(&self->built, false);
    return self;
}

user_t *user_ref(user_t *self)
{
    atomic_fetch_add_explicit(&self->refs, 1, memory_order_relaxed);
    return self;
}

void user_unref(user_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    user_t *self = *self_p;
    *self_p = NULL;
    if (atomic_fetch_sub_explicit(&self->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (int i = 0; i < USER_API_COUNT; i++)
        free(self->body[i]);
    pthread_mutex_destroy(&self->build_lock);
    free(self);
}

const char *user_owner_id(const user_t *self)
{
    return self->owner_id;
}

const char *user_name(const user_t *self)
{
    return self->name;
}

const char *user_api_body(user_t *self, user_api_t api, size_t *len)
{
    *len = 0;
    if (api < 0 || api >= USER_API_COUNT)
        return "";
    if (!atomic_load_explicit(&self->built, memory_order_acquire)) {
        pthread_mutex_lock(&self->build_lock);
        if (!atomic_load_explicit(&self->built, memory_order_relaxed)) {
            self->build_rc = s_build(self, self->base);
            atomic_store_explicit(&self->built, true, memory_order_release);
        }
        pthread_mutex_unlock(&self->build_lock);
    }
    if (self->build_rc != 0 || !self->body[api])
        return NULL;
    *len = self->len[api];
    return self->body[api];
}
