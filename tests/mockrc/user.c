//  user: see user.h.
#include "tests/mockrc/user.h"
#include "tests/mockrc/web.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  The user's own calls and the reception's (the account call log has both), spread over the 14 days
//  before the user's login, newest first; the 5 newest of the user's fall within the last 24 hours.
#define CALLS_PER_USER 24
#define RECEPTION_CALLS 12
#define CALLS_RECENT 5
#define PER_PAGE_DEFAULT 100
#define DAY_MS (86400LL * 1000)

struct _user_t {
    atomic_int refs;
    unsigned n;
    unsigned long account_id;
    unsigned long extension_id;
    char owner_id[24];
    char name[48];
    char number[24];      //  the user's direct phone number
    char base[256];       //  the mock's base URL, for the URIs in the bodies
    long long anchor_ms;  //  the login, to the minute: every call lies before it
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
        return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "page", 1, "totalPages", 1, "perPage", 100, "totalElements",
                         count, "pageStart", 0, "pageEnd", end);
    return json_pack("{s:i, s:i, s:i, s:i}", "page", 1, "perPage", 100, "pageStart", 0, "pageEnd", end);
}

static json_t *s_navigation(const char *uri)
{
    return json_pack("{s:{s:s}, s:{s:s}}", "firstPage", "uri", uri, "lastPage", "uri", uri);
}

static json_t *s_extension(const user_t *self, const char *base, unsigned long id, const char *number, const char *name,
                           const char *type)
{
    char uri[512];
    snprintf(uri, sizeof uri, "%s/restapi/v1.0/account/%lu/extension/%lu", base, self->account_id, id);
    char account[24];
    snprintf(account, sizeof account, "%lu", self->account_id);
    char email[96];
    snprintf(email, sizeof email, "%s@example.com", name);
    for (char *p = email; *p; p++)
        *p = *p == ' ' ? '.' : (char) (*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    return json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:{s:s}, s:{s:s}}", "uri", uri, "id", (json_int_t) id,
                     "extensionNumber", number, "name", name, "type", type, "status", "Enabled", "contact", "email",
                     email, "account", "id", account);
}

//  How long before the anchor call i of a line starts (ms): the first CALLS_RECENT within 20 hours, then
//  one every ~14/19 of a day back to ~14 days; salt varies the minutes between users and lines.
static long long s_ago_ms(unsigned i, unsigned salt)
{
    long long jitter = (long long) ((salt * 7919u + i * 104729u) % 3600u) * 1000;
    if (i < CALLS_RECENT)
        return 1800000LL + (long long) i * i * 2700000LL + jitter / 4;
    return DAY_MS + (long long) (i - CALLS_RECENT) * (DAY_MS * 13 / 19) + jitter;
}

//  ms since the epoch as RingCentral writes it: 2024-03-01T09:13:07.000Z.
static void s_iso(long long ms, char *out, size_t size)
{
    time_t t = (time_t) (ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int) (ms % 1000));
}

//  ISO 8601 (YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|+HH:MM|-HH:MM], no zone = UTC) to ms. Returns 0, or -1.
static int s_parse_iso(const char *s, long long *ms)
{
    int y, mo, d, hh = 0, mi = 0, ss = 0, frac = 0, used = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3 || used != 10 || mo < 1 || mo > 12 || d < 1 || d > 31)
        return -1;
    const char *p = s + 10;
    if (*p == 'T') {
        if (sscanf(p, "T%2d:%2d%n", &hh, &mi, &used) != 2 || used != 6 || hh > 23 || mi > 59)
            return -1;
        p += 6;
        if (*p == ':') {
            if (sscanf(p, ":%2d%n", &ss, &used) != 1 || used != 3 || ss > 59)
                return -1;
            p += 3;
            if (*p == '.') {
                int digits = 0;
                for (p++; *p >= '0' && *p <= '9'; p++, digits++)
                    if (digits < 3)
                        frac = frac * 10 + (*p - '0');
                if (digits == 0)
                    return -1;
                for (; digits < 3; digits++)
                    frac *= 10;
            }
        }
    }
    long long offset = 0;
    if (*p == 'Z')
        p++;
    else if (*p == '+' || *p == '-') {
        int oh, om;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &used) != 2 || used != 5 || oh > 23 || om > 59)
            return -1;
        offset = (*p == '+' ? 1 : -1) * (oh * 3600LL + om * 60LL);
        p += 6;
    }
    if (*p)
        return -1;
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = hh, .tm_min = mi, .tm_sec = ss };
    *ms = ((long long) timegm(&tm) - offset) * 1000 + frac;
    return 0;
}

typedef struct {
    long long start_ms;
    unsigned i;      //  the call's number on its line
    bool reception;  //  the reception's line (else the user's)
} s_slot_t;

//  Call slot of the user (deterministic: the same user and slot give the same call).
static json_t *s_call(const user_t *self, const char *base, const s_slot_t *slot, unsigned long ext_id,
                      const char *ext_name, const char *ext_number, bool detailed)
{
    static const char *const in_results[] = { "Accepted", "Missed", "Accepted", "Voicemail", "Accepted", "Declined" };
    static const char *const out_results[] = { "Call connected", "No Answer", "Call connected", "Busy", "Hang Up" };
    static const char *const names[] = { "Alice Chen", "Bob Martinez", "Carol Okafor",
                                         "Dev Patel",  "Erin O'Neil",  "Farah Haddad",
                                         "",           "Gus Lindqvist" };
    unsigned n = self->n, i = slot->i + (slot->reception ? 1000 : 0);
    char id[48], uri[512], session[32], start[64], other[24];
    snprintf(id, sizeof id, "CL%uX%u", n, i);
    snprintf(uri, sizeof uri, "%s/restapi/v1.0/account/%lu/extension/%lu/call-log/%s", base, self->account_id, ext_id,
             id);
    snprintf(session, sizeof session, "%lu", 40000000000UL + n * 10000UL + i);
    s_iso(slot->start_ms, start, sizeof start);
    snprintf(other, sizeof other, "+1650555%04u", (n * 10 + i) % 10000);
    const char *other_name = names[(n + i) % (sizeof names / sizeof names[0])];
    bool inbound = (i * 7 + n) % 5 < 3, fax = (i + n) % 9 == 4;
    const char *result = fax ? (inbound ? "Received" : "Sent")
        : inbound            ? in_results[(i + n) % 6]
                             : out_results[(i * 3 + n) % 5];
    bool talked = strcmp(result, "Accepted") == 0 || strcmp(result, "Call connected") == 0 || fax;
    int duration = !talked  ? (strcmp(result, "Voicemail") == 0 ? 20 + (int) (i % 40) : 0)
        : (i + n) % 11 == 3 ? 3600 + (int) ((n * 37 + i * 53) % 1800)
                            : 15 + (int) ((n * 37 + i * 53) % 900);
    json_t *me =
        json_pack("{s:s, s:s, s:I}", "phoneNumber", ext_number, "name", ext_name, "extensionId", (json_int_t) ext_id);
    json_t *them = *other_name
        ? json_pack("{s:s, s:s, s:s}", "phoneNumber", other, "name", other_name, "location", "Palo Alto, CA")
        : json_pack("{s:s}", "phoneNumber", other);
    json_t *call = json_pack(
        "{s:s, s:s, s:s, s:s, s:i, s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "uri", uri, "id", id, "sessionId", session,
        "startTime", start, "duration", duration, "durationMs", (json_int_t) duration * 1000, "type",
        fax ? "Fax" : "Voice", "direction", inbound ? "Inbound" : "Outbound", "action",
        fax ? (inbound ? "Incoming Fax" : "Outgoing Fax") : "Phone Call", "result", result, "transport",
        (i % 3) ? "PSTN" : "VoIP", "from", inbound ? them : me, "to", inbound ? me : them);
    if (call && detailed) {
        json_t *leg = json_pack(
            "{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:O, s:O}", "startTime", start, "type", fax ? "Fax" : "Voice",
            "duration", duration, "direction", inbound ? "Inbound" : "Outbound", "action",
            json_string_value(json_object_get(call, "action")), "result", result, "legType",
            inbound ? "Accept" : "PstnToSip", "from", json_object_get(call, "from"), "to", json_object_get(call, "to"));
        json_object_set_new(call, "legs", leg ? json_pack("[o]", leg) : json_array());
    }
    return call;
}

static json_t *s_list(const char *uri, json_t *records, int with_totals)
{
    if (!records)
        return NULL;
    json_t *paging = s_paging((int) json_array_size(records), with_totals);
    return json_pack("{s:s, s:o, s:o, s:o}", "uri", uri, "records", records, "paging", paging, "navigation",
                     s_navigation(uri));
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

    json_t *exts = json_pack("[o, o]", s_extension(self, base, self->extension_id, "101", self->name, "User"),
                             s_extension(self, base, reception_id, "102", reception, "Department"));
    snprintf(uri, sizeof uri, "%s/restapi/v1.0/account/%lu/extension?page=1&perPage=100", base, self->account_id);
    if (s_store(self, USER_API_EXTENSION, s_list(uri, exts, 1)) != 0)
        return -1;

    return 0;
}

static int s_slot_cmp(const void *a, const void *b)
{
    const s_slot_t *x = a, *y = b;
    return x->start_ms < y->start_ms ? 1 : x->start_ms > y->start_ms ? -1 : (int) x->i - (int) y->i;
}

//  The query parameters of a call log, as RingCentral reads them.
typedef struct {
    char date_from[48], date_to[48], view[16], direction[16], type[16];
    long long from_ms, to_ms;
    long page, per_page;
} s_query_t;

//  Parse query into q. Returns NULL, or the name of the parameter RingCentral would refuse.
static const char *s_query(const char *query, s_query_t *q)
{
    size_t len = query ? strlen(query) : 0;
    char num[16];
    *q = (s_query_t){ .page = 1, .per_page = PER_PAGE_DEFAULT };
    struct {
        const char *name;
        char *dst;
        size_t size;
    } text[] = {
        { "dateFrom", q->date_from, sizeof q->date_from },
        { "dateTo", q->date_to, sizeof q->date_to },
        { "view", q->view, sizeof q->view },
        { "direction", q->direction, sizeof q->direction },
        { "type", q->type, sizeof q->type },
    };
    for (size_t k = 0; k < sizeof text / sizeof text[0]; k++)
        if (web_form_get(query, len, text[k].name, text[k].dst, text[k].size) == -2)
            return text[k].name;
    struct {
        const char *name;
        long *dst;
        long max;
    } nums[] = {
        { "page", &q->page, 1000000 },
        { "perPage", &q->per_page, 1000 },
    };
    for (size_t k = 0; k < 2; k++) {
        int rc = web_form_get(query, len, nums[k].name, num, sizeof num);
        if (rc == -1)
            continue;
        char *end;
        long v = rc > 0 ? strtol(num, &end, 10) : 0;
        if (rc <= 0 || *end || v < 1 || v > nums[k].max)
            return nums[k].name;
        *nums[k].dst = v;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    q->to_ms = (long long) now.tv_sec * 1000 + now.tv_nsec / 1000000;
    if (q->date_to[0] && s_parse_iso(q->date_to, &q->to_ms) != 0)
        return "dateTo";
    q->from_ms = q->to_ms - DAY_MS;  //  RingCentral's default: the 24 hours before dateTo
    if (q->date_from[0] && s_parse_iso(q->date_from, &q->from_ms) != 0)
        return "dateFrom";
    if (q->view[0] && strcmp(q->view, "Simple") != 0 && strcmp(q->view, "Detailed") != 0)
        return "view";
    if (q->direction[0] && strcmp(q->direction, "Inbound") != 0 && strcmp(q->direction, "Outbound") != 0)
        return "direction";
    if (q->type[0] && strcmp(q->type, "Voice") != 0 && strcmp(q->type, "Fax") != 0)
        return "type";
    return NULL;
}

//  The call log's URI for page (the request's own filters kept, as RingCentral's navigation does).
static void s_page_uri(char *out, size_t size, const char *path, const s_query_t *q, long page)
{
    char p[16], pp[16];
    snprintf(p, sizeof p, "%ld", page);
    snprintf(pp, sizeof pp, "%ld", q->per_page);
    const char *const params[][2] = {
        { "view", q->view[0] ? q->view : "Simple" },
        { "dateFrom", q->date_from[0] ? q->date_from : NULL },
        { "dateTo", q->date_to[0] ? q->date_to : NULL },
        { "direction", q->direction[0] ? q->direction : NULL },
        { "type", q->type[0] ? q->type : NULL },
        { "page", p },
        { "perPage", pp },
    };
    if (web_url_build(out, size, path, params, sizeof params / sizeof params[0]) != 0)
        snprintf(out, size, "%s", path);
}

static char *s_call_log(user_t *self, user_api_t api, const char *query, size_t *len, const char **bad)
{
    s_query_t q;
    if ((*bad = s_query(query, &q)) != NULL)
        return NULL;
    unsigned long reception_id = self->extension_id + 50000;
    char reception[48], path[512];
    snprintf(reception, sizeof reception, "Reception %u", self->n);
    bool account = api == USER_API_ACCOUNT_CALL_LOG;
    s_slot_t slots[CALLS_PER_USER + RECEPTION_CALLS];
    size_t count = 0;
    for (unsigned i = 0; i < CALLS_PER_USER + (account ? RECEPTION_CALLS : 0); i++) {
        bool rec = i >= CALLS_PER_USER;
        unsigned k = rec ? i - CALLS_PER_USER : i;
        s_slot_t slot = { self->anchor_ms - s_ago_ms(k, self->n * 2 + rec), k, rec };
        unsigned num = k + (rec ? 1000 : 0);
        bool inbound = (num * 7 + self->n) % 5 < 3, fax = (num + self->n) % 9 == 4;
        if (slot.start_ms < q.from_ms || slot.start_ms > q.to_ms
            || (q.direction[0] && strcmp(q.direction, inbound ? "Inbound" : "Outbound") != 0)
            || (q.type[0] && strcmp(q.type, fax ? "Fax" : "Voice") != 0))
            continue;
        slots[count++] = slot;
    }
    qsort(slots, count, sizeof slots[0], s_slot_cmp);
    if (account)
        snprintf(path, sizeof path, "%s/restapi/v1.0/account/%lu/call-log", self->base, self->account_id);
    else
        snprintf(path, sizeof path, "%s/restapi/v1.0/account/%lu/extension/%lu/call-log", self->base, self->account_id,
                 self->extension_id);
    long pages = count ? (long) ((count + (size_t) q.per_page - 1) / (size_t) q.per_page) : 1;
    size_t first = (size_t) (q.page - 1) * (size_t) q.per_page;
    json_t *records = json_array();
    bool detailed = strcmp(q.view, "Detailed") == 0;
    for (size_t k = first; records && k < count && k < first + (size_t) q.per_page; k++) {
        bool rec = slots[k].reception;
        json_array_append_new(records,
                              s_call(self, self->base, &slots[k], rec ? reception_id : self->extension_id,
                                     rec ? reception : self->name, rec ? "+14155550000" : self->number, detailed));
    }
    size_t n = json_array_size(records);
    char uri[1024], nav_uri[1024];
    s_page_uri(uri, sizeof uri, path, &q, q.page);
    //  An empty page has no page fields (RingCentral omits pageStart/pageEnd and the totals then).
    json_t *paging = n
        ? json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "page", (json_int_t) q.page, "totalPages", (json_int_t) pages,
                    "perPage", (json_int_t) q.per_page, "totalElements", (json_int_t) count, "pageStart",
                    (json_int_t) first, "pageEnd", (json_int_t) (first + n - 1))
        : json_pack("{s:I, s:I}", "page", (json_int_t) q.page, "perPage", (json_int_t) q.per_page);
    json_t *nav = json_object();
    s_page_uri(nav_uri, sizeof nav_uri, path, &q, 1);
    json_object_set_new(nav, "firstPage", json_pack("{s:s}", "uri", nav_uri));
    if (n && q.page < pages) {
        s_page_uri(nav_uri, sizeof nav_uri, path, &q, q.page + 1);
        json_object_set_new(nav, "nextPage", json_pack("{s:s}", "uri", nav_uri));
    }
    if (q.page > 1 && q.page <= pages) {
        s_page_uri(nav_uri, sizeof nav_uri, path, &q, q.page - 1);
        json_object_set_new(nav, "previousPage", json_pack("{s:s}", "uri", nav_uri));
    }
    s_page_uri(nav_uri, sizeof nav_uri, path, &q, pages);
    json_object_set_new(nav, "lastPage", json_pack("{s:s}", "uri", nav_uri));
    json_t *body =
        json_pack("{s:s, s:o, s:o, s:o}", "uri", uri, "records", records, "paging", paging, "navigation", nav);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    *len = text ? strlen(text) : 0;
    return text;
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
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    self->anchor_ms = ((long long) now.tv_sec - now.tv_sec % 60) * 1000;
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

unsigned user_number(const user_t *self)
{
    return self->n;
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

char *user_api_answer(user_t *self, user_api_t api, const char *query, size_t *len, const char **bad)
{
    *len = 0;
    *bad = NULL;
    if (api == USER_API_EXTENSION_CALL_LOG || api == USER_API_ACCOUNT_CALL_LOG)
        return s_call_log(self, api, query, len, bad);
    size_t n;
    const char *body = user_api_body(self, api, &n);
    char *copy = body ? malloc(n + 1) : NULL;
    if (copy) {
        memcpy(copy, body, n + 1);
        *len = n;
    }
    return copy;
}
