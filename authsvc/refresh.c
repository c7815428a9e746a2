//  refresh: see refresh.h.
#include "authsvc/refresh.h"
#include "common/clock.h"
#include "authsvc/oauth.h"
#include "authsvc/stats.h"
#include "common/log.h"
#include "common/rand.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  A SESSION whose access token expires within this margin refreshes first.
#define REFRESH_MARGIN_MS 60000

//  A refresh outlives the requests that wait for it. RingCentral rotates the refresh token
//  when it completes a refresh, and the new pair exists only in its answer: a transfer we
//  abort may still complete there, leaving us a dead refresh token (next refresh:
//  invalid_grant, the login is over). So each waiter gets UPSTREAM_TIMEOUT after the
//  configured timeout (a prompt 504), while the transfer runs on up to a hard timeout of
//  max(REFRESH_HARD_MIN_MS, REFRESH_HARD_FACTOR x timeout) and its answer is applied whenever
//  it comes (200: commit; 400: delete; else: release). The LMDB lease covers the whole
//  transfer plus a margin, so no other refresh, in any process, sends the old refresh token meanwhile:
//  requests that come in the mean time join the job (or wait on the other process's lease)
//  and get the late answer, or UPSTREAM_TIMEOUT after their own timeout. The price: a process
//  that dies mid-refresh blocks that session's refreshes until its lease runs out.
#define REFRESH_HARD_MIN_MS 30000
#define REFRESH_HARD_FACTOR 3
#define REFRESH_LEASE_MARGIN_MS 5000

//  Every store write of a refresh (the claim, the result, the release, the delete after invalid_grant) runs
//  after the loop's group commit (authsvc_later), in a transaction of its own: no pending login or other
//  write of the turn can make its commit fail, and the result may grow a full map (store.h).
//  When the result's commit fails all the same, the rotated pair is the only one RingCentral still accepts,
//  so it is never dropped: the job keeps it in memory (JOB_MEMORY), every refresh of that session in this
//  process joins the job (no upstream call: the stored refresh token is rotated out), and the commit is
//  retried, from REFRESH_RETRY_MIN_MS doubling to REFRESH_RETRY_MAX_MS, until it is stored. Waiters wait for
//  the commit; those still waiting at their deadline get STORE_FULL (the session stays). The lease: it is
//  NOT released while the pair is only in memory, and it is extended (store_refresh_extend) whenever it has
//  less than half its length to run: released or run out, the lease would let another authsvc process claim
//  the session and send the stored refresh token, which RingCentral has rotated out (invalid_grant: that
//  process ends the login, and our pair dies with it). Within this process nothing is blocked by the lease
//  (the job answers), so the 35 s of a lease no longer stall the session. If even the extension cannot be
//  written (a store refusing every write), the risk stays and is logged (refresh.lease_extend_fail).
//  At shutdown the commit is tried once more; a pair that cannot be stored then is lost (refresh.lost).
#define REFRESH_RETRY_MIN_MS 50
#define REFRESH_RETRY_MAX_MS 2000

typedef struct _s_waiter_t s_waiter_t;
struct _s_waiter_t {
    s_waiter_t *next;
    svc_peer_t peer;
    uint64_t rid;
    proto_type_t type;  //  PROTO_REFRESH or PROTO_SESSION
    int64_t deadline;   //  clock_mono_ms(): answered UPSTREAM_TIMEOUT from then on
};

typedef enum {
    JOB_IDLE,
    JOB_CLAIM,       //  s_begin queued for after the group commit
    JOB_UPSTREAM,    //  the transfer runs
    JOB_SETTLE,      //  the transfer answered; s_settle queued for after the group commit
    JOB_WAIT_OTHER,  //  another process holds the lease
    JOB_MEMORY,      //  a rotated pair whose commit failed: kept in rec, retried
} s_state_t;

typedef struct {
    authsvc_t *owner;
    char sid[STORE_KEY_MAX];
    s_state_t state;
    uint64_t seen_version;
    int64_t wait_until;     //  JOB_WAIT_OTHER: when the other process's lease runs out
    int64_t blocked_until;  //  after a 429: no upstream call before this
    s_waiter_t *waiters;
    bool late;            //  JOB_UPSTREAM: waiters were already answered UPSTREAM_TIMEOUT
    store_session_t rec;  //  the claimed record (JOB_UPSTREAM); the new pair (JOB_SETTLE, JOB_MEMORY)
    int64_t lease_ms;     //  the lease's length, and when it runs out (clock_now_ms)
    int64_t lease_until;
    //  JOB_SETTLE: what RingCentral answered
    proto_code_t outcome;
    const char *reason;  //  static text
    long status, elapsed_ms, retry_after;
    upstream_detail_t detail;  //  RingCentral's words about a refused refresh (status 0: none), for waiters' ERRORs
    //  JOB_MEMORY
    int64_t retry_at;  //  clock_mono_ms() of the next commit
    int64_t retry_ms;
    unsigned tries;
    bool extend_failed;  //  logged once
} s_job_t;

struct _refresh_t {
    zhashx_t *jobs;  //  sid -> s_job_t
};

refresh_t *refresh_new(void)
{
    refresh_t *self = calloc(1, sizeof *self);
    if (self && !(self->jobs = zhashx_new())) {
        free(self);
        self = NULL;
    }
    return self;
}

static void s_job_free(s_job_t *job)
{
    while (job->waiters) {
        s_waiter_t *w = job->waiters;
        job->waiters = w->next;
        free(w);
    }
    explicit_bzero(&job->rec, sizeof job->rec);  //  the rotated tokens: a wipe the compiler cannot drop before free
    free(job);
}

void refresh_destroy(refresh_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    refresh_t *self = *self_p;
    for (s_job_t *job = zhashx_first(self->jobs); job; job = zhashx_next(self->jobs))
        s_job_free(job);
    zhashx_destroy(&self->jobs);
    free(self);
    *self_p = NULL;
}

static void s_reply_session(authsvc_t *self, const svc_peer_t *peer, uint64_t rid, const char *sid)
{
    store_session_t *rec = store_session_new();
    int src = rec ? store_session_get(self->store, sid, rec) : STORE_EIO;
    proto_msg_t *reply = proto_msg_new(PROTO_SESSION_OK, rid);
    if (src != STORE_OK && src != STORE_ENOTFOUND)
        authsvc_store_error(self, peer, rid, "session.store", src);
    else if (reply) {
        int ok = proto_msg_set_bool(reply, "logged_in", src == STORE_OK) == 0;
        if (src == STORE_OK) {
            int64_t left = (rec->expires_at - clock_now_ms()) / 1000;
            ok = ok && proto_msg_set_str(reply, "env", rec->env) == 0
                && proto_msg_set_int(reply, "access_expires_in", left) == 0
                && proto_msg_set_int(reply, "version", (int64_t) rec->version) == 0
                && (!rec->owner_id[0] || proto_msg_set_str(reply, "owner_id", rec->owner_id) == 0);
        }
        if (ok)
            svc_reply(self->svc, peer, reply);
        else
            svc_reply_error(self->svc, peer, rid, PROTO_INTERNAL, "could not encode the reply", -1);
    }
    proto_msg_destroy(&reply);
    store_session_destroy(&rec);
}

static void s_reply_version(authsvc_t *self, const svc_peer_t *peer, uint64_t rid, uint64_t version)
{
    proto_msg_t *reply = proto_msg_new(PROTO_REFRESH_OK, rid);
    if (reply && proto_msg_set_int(reply, "version", (int64_t) version) == 0)
        svc_reply(self->svc, peer, reply);
    proto_msg_destroy(&reply);
}

//  Answer every waiter of job. code PROTO_OK: refreshed to version; otherwise ERROR code/message.
//  SESSION waiters always get the record as it now is (a failed refresh keeps the tokens).
static void s_finish(s_job_t *job, proto_code_t code, uint64_t version, const char *message, int64_t retry_after)
{
    authsvc_t *self = job->owner;
    while (job->waiters) {
        s_waiter_t *w = job->waiters;
        job->waiters = w->next;
        if (w->type == PROTO_SESSION)
            s_reply_session(self, &w->peer, w->rid, job->sid);
        else if (code == PROTO_OK)
            s_reply_version(self, &w->peer, w->rid, version);
        else {
            proto_msg_t *error = job->detail.status > 0
                ? upstream_error_new(w->rid, code, message, retry_after, NULL, &job->detail)
                : NULL;
            if (error)
                svc_reply(self->svc, &w->peer, error);
            else
                svc_reply_error(self->svc, &w->peer, w->rid, code, message, retry_after);
            proto_msg_destroy(&error);
        }
        free(w);
    }
    job->state = JOB_IDLE;
    job->late = false;
    memset(&job->rec, 0, sizeof job->rec);
    memset(&job->detail, 0, sizeof job->detail);
    if (job->blocked_until <= clock_now_ms()) {
        zhashx_delete(self->refresh->jobs, job->sid);
        s_job_free(job);
    }
}

//  The commit of the new pair failed (rc): keep it in memory (see the top of this file).
static void s_keep_in_memory(s_job_t *job, int rc)
{
    job->state = JOB_MEMORY;
    job->tries = 1;
    job->retry_ms = REFRESH_RETRY_MIN_MS;
    job->retry_at = clock_mono_ms() + job->retry_ms;
    job->extend_failed = false;
    log_error("refresh.store_fail",
              "version=%llu error=\"%s\" kept=memory msg=\"the refreshed tokens are kept in "
              "memory and stored when the store takes them\"",
              (unsigned long long) job->rec.version + 1, store_strerror(rc));
}

//  Commit the new pair of job (JOB_SETTLE or JOB_MEMORY). Returns true when the job is settled (and finished).
static bool s_commit(s_job_t *job)
{
    authsvc_t *self = job->owner;
    bool retry = job->state == JOB_MEMORY;
    int src = store_refresh_complete(self->store, job->sid, &job->rec);
    if (src == STORE_OK) {
        if (retry)
            log_info("refresh.stored", "version=%llu tries=%u msg=\"the refreshed tokens kept in memory are stored\"",
                     (unsigned long long) job->rec.version, job->tries + 1);
        else
            log_info("refresh.ok", "version=%llu ms=%ld late=%d store=ok", (unsigned long long) job->rec.version,
                     job->elapsed_ms, job->late);
        stats_refresh_result(true);
        s_finish(job, PROTO_OK, job->rec.version, NULL, -1);
        return true;
    }
    if (src == STORE_ENOTFOUND || src == STORE_ESTALE) {
        //  Logged out (or expired) meanwhile, or the version moved on without us: the pair is of no use.
        store_session_t *cur = store_session_new();
        int gsrc = src == STORE_ESTALE && cur ? store_session_get(self->store, job->sid, cur) : STORE_ENOTFOUND;
        log_warn("refresh.dropped", "reason=%s", src == STORE_ENOTFOUND ? "logged_out" : "version_moved_on");
        if (gsrc == STORE_OK)
            s_finish(job, PROTO_OK, cur->version, NULL, -1);
        else
            s_finish(job, PROTO_NOT_LOGGED_IN, 0, "not logged in", -1);
        store_session_destroy(&cur);
        return true;
    }
    if (!retry)
        s_keep_in_memory(job, src);
    return false;
}

//  JOB_MEMORY, when due: commit again; keep the lease while it fails. Returns true when settled (job may be gone).
static bool s_retry(s_job_t *job, int64_t now, int64_t now_mono)
{
    if (now_mono < job->retry_at)
        return false;
    if (s_commit(job))
        return true;
    job->tries++;
    job->retry_ms = job->retry_ms * 2 > REFRESH_RETRY_MAX_MS ? REFRESH_RETRY_MAX_MS : job->retry_ms * 2;
    job->retry_at = now_mono + job->retry_ms;
    if (job->lease_until - now > job->lease_ms / 2)
        return false;
    int src = store_refresh_extend(job->owner->store, job->sid, job->rec.version, now, job->lease_ms);
    if (src == STORE_OK) {
        job->lease_until = now + job->lease_ms;
        job->extend_failed = false;
    }
    else if (!job->extend_failed) {
        job->extend_failed = true;
        log_error("refresh.lease_extend_fail",
                  "error=\"%s\" msg=\"the refreshed tokens are only in memory and "
                  "their lease could not be extended\"",
                  store_strerror(src));
    }
    return false;
}

//  After the group commit: apply what RingCentral answered (JOB_SETTLE).
static void s_settle(authsvc_t *self, void *arg)
{
    s_job_t *job = arg;
    proto_code_t code = job->outcome;
    if (code == PROTO_OK) {
        s_commit(job);
        return;
    }
    stats_refresh_result(false);
    char words[320];
    log_warn("refresh.fail", "status=%ld reason=%s%s ms=%ld late=%d", job->status, job->reason,
             upstream_detail_log(&job->detail, words, sizeof words), job->elapsed_ms, job->late);
    if (code == PROTO_UPSTREAM_REJECTED) {
        //  Final (invalid_grant): the login is over; the user logs in again.
        store_session_delete(self->store, job->sid);
        s_finish(job, PROTO_NOT_LOGGED_IN, 0, "the RingCentral login has ended; log in again", -1);
        return;
    }
    //  Not final: the tokens stay; drop the lease so the next request may try again. (After the
    //  hard timeout, or a cancel at shutdown, RingCentral may have rotated them all the same:
    //  nothing better to do then.)
    store_refresh_release(self->store, job->sid);
    long retry = -1;
    if (code == PROTO_RATE_LIMITED) {
        retry = job->retry_after;  //  upstream_retry_after: > 0 for every RATE_LIMITED answer
        //  At most an hour, as apisvc's HOLD: Retry-After is any number curl parsed (x 1000 could overflow).
        job->blocked_until = clock_now_ms() + (retry < STORE_HOLD_MAX_MS / 1000 ? retry * 1000 : STORE_HOLD_MAX_MS);
    }
    s_finish(job, code, 0,
             code == PROTO_RATE_LIMITED           ? "RingCentral rate limit on token refresh; wait and try again"
                 : code == PROTO_UPSTREAM_TIMEOUT ? "RingCentral did not answer the token refresh in time"
                                                  : "RingCentral's token refresh failed; try again",
             retry);
}

//  The transfer ended (inside the loop's group commit): note the answer, settle after the commit.
static void s_refresh_done(const http_response_t *resp, void *arg)
{
    s_job_t *job = arg;
    const char *reason = NULL;
    proto_code_t code = oauth_classify(resp, &reason, &job->detail);
    if (code == PROTO_OK)
        memset(&job->detail, 0, sizeof job->detail);
    if (code == PROTO_OK && oauth_parse_tokens(resp->body, resp->body_len, clock_now_ms(), &job->rec, &reason) != 0)
        code = PROTO_UPSTREAM_ERROR;
    job->outcome = code;
    job->reason = reason ? reason : "-";
    job->status = resp->status;
    job->elapsed_ms = resp->elapsed_ms;
    job->retry_after = upstream_retry_after(resp);
    job->state = JOB_SETTLE;
    if (authsvc_later(job->owner, s_settle, job) != 0)
        s_settle(job->owner, job);  //  out of memory: at once, inside the batch
}

//  Claim the lease and call RingCentral, or settle at once when someone else refreshed.
static void s_begin(s_job_t *job)
{
    authsvc_t *self = job->owner;
    int64_t hard_ms = (int64_t) self->cfg->timeout_ms * REFRESH_HARD_FACTOR;
    if (hard_ms < REFRESH_HARD_MIN_MS)
        hard_ms = REFRESH_HARD_MIN_MS;
    int64_t lease_ms = hard_ms + REFRESH_LEASE_MARGIN_MS, now = clock_now_ms();
    int src = store_refresh_claim(self->store, job->sid, job->seen_version, now, lease_ms, &job->rec);
    if (src == STORE_EBUSY && job->rec.refreshing_pid == (int64_t) getpid()) {
        //  A lease of this process, yet no refresh of ours runs for sid (single flight: this job is it):
        //  a release that was not stored. Take it back instead of waiting for it to run out.
        log_warn("refresh.lease_leftover", "msg=\"this process's own lease was left over: taken back\"");
        src = store_refresh_extend(self->store, job->sid, job->seen_version, now, lease_ms);
        if (src == STORE_OK) {
            job->rec.refreshing_until = now + lease_ms;
            job->rec.refreshing_pid = getpid();
        }
    }
    job->lease_ms = lease_ms;
    job->lease_until = now + lease_ms;
    if (src == STORE_ESTALE) {
        s_finish(job, PROTO_OK, job->rec.version, NULL, -1);
        return;
    }
    if (src == STORE_EBUSY) {
        job->state = JOB_WAIT_OTHER;
        job->wait_until = job->rec.refreshing_until;
        return;
    }
    if (src == STORE_ENOTFOUND) {
        s_finish(job, PROTO_NOT_LOGGED_IN, 0, "not logged in", -1);
        return;
    }
    if (src != STORE_OK) {
        authsvc_store_log("refresh_claim", 0, src);
        if (src == STORE_EFULL)
            s_finish(job, PROTO_STORE_FULL, 0, "the token store is full; try again later", -1);
        else
            s_finish(job, PROTO_INTERNAL, 0, "the token store failed", -1);
        return;
    }
    int env = config_env_parse(job->rec.env);
    const config_rc_t *rc = env >= 0 ? &self->cfg->rc[env] : NULL;
    if (!rc || !rc->configured) {
        store_refresh_release(self->store, job->sid);
        s_finish(job, PROTO_INTERNAL, 0, "environment not configured", -1);
        return;
    }
    job->state = JOB_UPSTREAM;
    job->late = false;
    if (oauth_start_refresh(self->http, rc, job->rec.refresh_token, (long) hard_ms, s_refresh_done, job) != 0) {
        store_refresh_release(self->store, job->sid);
        s_finish(job, PROTO_INTERNAL, 0, "could not start the token refresh", -1);
    }
}

static void s_begin_later(authsvc_t *self, void *arg)
{
    (void) self;
    s_begin(arg);
}

//  Join (or start) the refresh of sid from seen_version for this waiter.
static void s_join(authsvc_t *self, const char *sid, uint64_t seen_version, const svc_peer_t *peer, uint64_t rid,
                   proto_type_t type)
{
    s_job_t *job = zhashx_lookup(self->refresh->jobs, sid);
    s_waiter_t *w = calloc(1, sizeof *w);
    if (!job && w) {
        job = calloc(1, sizeof *job);
        if (job) {
            job->owner = self;
            snprintf(job->sid, sizeof job->sid, "%s", sid);
            zhashx_insert(self->refresh->jobs, sid, job);
        }
    }
    if (!job || !w) {
        free(w);
        svc_reply_error(self->svc, peer, rid, PROTO_INTERNAL, "out of memory", -1);
        return;
    }
    *w = (s_waiter_t){ .next = job->waiters,
                       .peer = *peer,
                       .rid = rid,
                       .type = type,
                       .deadline = clock_mono_ms() + self->cfg->timeout_ms };
    job->waiters = w;
    if (job->state == JOB_IDLE) {
        //  The claim is a write of its own, after the turn's group commit (see the top of this file).
        job->seen_version = seen_version;
        job->state = JOB_CLAIM;
        if (authsvc_later(self, s_begin_later, job) != 0)
            s_begin(job);
    }
    else {
        stats_refresh_coalesced();  //  joins the refresh in flight
        if (job->state == JOB_MEMORY)
            job->retry_at = clock_mono_ms();  //  someone waits: try the commit at the next tick
    }
}

//  True (and the caller is answered) when sid's refreshes are paused by a 429.
static bool s_blocked(authsvc_t *self, const char *sid, const svc_peer_t *peer, uint64_t rid, proto_type_t type)
{
    s_job_t *job = zhashx_lookup(self->refresh->jobs, sid);
    int64_t now = clock_now_ms();
    if (!job || job->blocked_until <= now)
        return false;
    if (type == PROTO_SESSION)
        s_reply_session(self, peer, rid, sid);
    else
        svc_reply_error(self->svc, peer, rid, PROTO_RATE_LIMITED,
                        "RingCentral rate limit on token refresh; wait and try again",
                        (job->blocked_until - now + 999) / 1000);
    return true;
}

void refresh_request(authsvc_t *self, const svc_peer_t *peer, proto_msg_t *req)
{
    uint64_t rid = proto_msg_rid(req);
    const char *sid = proto_msg_str(req, "sid");
    int64_t seen = proto_msg_int(req, "seen_version", 0);
    if (!authsvc_check_sid(self, peer, rid, sid))
        return;
    store_session_t *rec = store_session_new();
    int src = rec ? store_session_get(self->store, sid, rec) : STORE_EIO;
    if (src == STORE_ENOTFOUND)
        svc_reply_error(self->svc, peer, rid, PROTO_NOT_LOGGED_IN, "not logged in", -1);
    else if (src != STORE_OK)
        authsvc_store_error(self, peer, rid, "refresh.store", src);
    else if (seen < 0 || rec->version != (uint64_t) seen) {
        stats_refresh_coalesced();
        s_reply_version(self, peer, rid, rec->version);  //  already refreshed: no upstream call
    }
    else if (!s_blocked(self, sid, peer, rid, PROTO_REFRESH))
        s_join(self, sid, (uint64_t) seen, peer, rid, PROTO_REFRESH);
    store_session_destroy(&rec);
}

void refresh_session(authsvc_t *self, const svc_peer_t *peer, proto_msg_t *req)
{
    uint64_t rid = proto_msg_rid(req);
    const char *sid = proto_msg_str(req, "sid");
    if (!rand_id_is_valid(sid)) {  //  no valid session id: simply not logged in
        proto_msg_t *reply = proto_msg_new(PROTO_SESSION_OK, rid);
        if (reply && proto_msg_set_bool(reply, "logged_in", false) == 0)
            svc_reply(self->svc, peer, reply);
        proto_msg_destroy(&reply);
        return;
    }
    store_session_t *rec = store_session_new();
    int src = rec ? store_session_get(self->store, sid, rec) : STORE_EIO;
    int64_t now = clock_now_ms();
    if (src != STORE_OK && src != STORE_ENOTFOUND)
        authsvc_store_error(self, peer, rid, "session.store", src);
    else if (src == STORE_OK && rec->expires_at - now < REFRESH_MARGIN_MS && rec->refresh_expires_at > now) {
        if (!s_blocked(self, sid, peer, rid, PROTO_SESSION))
            s_join(self, sid, rec->version, peer, rid, PROTO_SESSION);
    }
    else
        s_reply_session(self, peer, rid, sid);
    store_session_destroy(&rec);
}

//  Answer the waiters of job whose deadline has passed: REFRESH with UPSTREAM_TIMEOUT, SESSION with the
//  record as it is. The job itself goes on (a transfer, or the wait for another process's lease).
static void s_expire(s_job_t *job, int64_t now_mono)
{
    authsvc_t *self = job->owner;
    int count = 0;
    for (s_waiter_t **p = &job->waiters; *p;) {
        s_waiter_t *w = *p;
        if (w->deadline > now_mono) {
            p = &w->next;
            continue;
        }
        *p = w->next;
        if (w->type == PROTO_SESSION)
            s_reply_session(self, &w->peer, w->rid, job->sid);
        else if (job->state == JOB_MEMORY)
            svc_reply_error(self->svc, &w->peer, w->rid, PROTO_STORE_FULL,
                            "the token store is full: the refreshed login is kept, try again later", -1);
        else
            svc_reply_error(self->svc, &w->peer, w->rid, PROTO_UPSTREAM_TIMEOUT,
                            "RingCentral did not answer the token refresh in time", -1);
        free(w);
        count++;
    }
    if (count && job->state == JOB_UPSTREAM) {
        job->late = true;
        log_warn("refresh.slow", "waiters=%d msg=\"answered UPSTREAM_TIMEOUT; the refresh goes on\"", count);
    }
}

//  The jobs of the table, in a new array (settling a job deletes it from the table, so loops walk
//  this copy; settling one job never frees another). Returns NULL when there are none or out of memory.
static s_job_t **s_all_jobs(refresh_t *self, size_t *count_p)
{
    size_t size = zhashx_size(self->jobs), n = 0;
    s_job_t **all = size ? calloc(size, sizeof *all) : NULL;
    for (s_job_t *job = all ? zhashx_first(self->jobs) : NULL; job && n < size; job = zhashx_next(self->jobs))
        all[n++] = job;
    *count_p = n;
    return all;
}

void refresh_tick(svc_t *svc, void *arg)
{
    (void) svc;
    authsvc_t *self = arg;
    size_t n = 0;
    s_job_t **all = s_all_jobs(self->refresh, &n);
    store_session_t *rec = all ? store_session_new() : NULL;
    int64_t now = clock_now_ms(), now_mono = clock_mono_ms();
    for (size_t i = 0; rec && i < n; i++) {
        s_job_t *job = all[i];
        if (job->state == JOB_WAIT_OTHER) {
            int src = store_session_get(self->store, job->sid, rec);
            if (src == STORE_ENOTFOUND) {
                s_finish(job, PROTO_NOT_LOGGED_IN, 0, "not logged in", -1);
                continue;
            }
            if (src == STORE_OK && rec->version != job->seen_version) {
                s_finish(job, PROTO_OK, rec->version, NULL, -1);
                continue;
            }
            if (src == STORE_OK && !store_lease_live(rec, now)) {
                s_begin(job);  //  the other process gave up or died: claim it ourselves
                continue;
            }
        }
        if (job->state == JOB_MEMORY && s_retry(job, now, now_mono))
            continue;  //  stored (the job may be gone)
        s_expire(job, now_mono);
        if (job->state == JOB_WAIT_OTHER && !job->waiters)
            s_finish(job, PROTO_OK, 0, NULL, -1);  //  nobody waits any more: drop the job
        else if (job->state == JOB_IDLE && !job->waiters && job->blocked_until <= now) {
            zhashx_delete(self->refresh->jobs, job->sid);  //  a 429 pause that ran out
            s_job_free(job);
        }
        //  JOB_UPSTREAM: the transfer's end settles it, whoever still waits; JOB_MEMORY: a commit does.
    }
    store_session_destroy(&rec);
    free(all);
}

bool refresh_busy(const refresh_t *self)
{
    zhashx_t *jobs = self->jobs;  //  iterating moves the table's cursor (not its contents): no caller iterates now
    for (s_job_t *job = zhashx_first(jobs); job; job = zhashx_next(jobs))
        if (job->state == JOB_CLAIM || job->state == JOB_UPSTREAM || job->state == JOB_SETTLE
            || job->state == JOB_MEMORY)
            return true;
    return false;
}

void refresh_abort_all(authsvc_t *self)
{
    size_t n = 0;
    s_job_t **all = s_all_jobs(self->refresh, &n);
    for (size_t i = 0; i < n; i++) {
        all[i]->blocked_until = 0;
        if (all[i]->state == JOB_MEMORY && s_commit(all[i]))
            continue;  //  stored at last (and answered)
        if (all[i]->state == JOB_MEMORY)
            log_error("refresh.lost",
                      "version=%llu msg=\"authsvc is stopping and the refreshed tokens could not be "
                      "stored: this session must log in again\"",
                      (unsigned long long) all[i]->rec.version);
        s_finish(all[i], PROTO_UNAVAILABLE, 0, "authsvc is stopping", -1);
    }
    free(all);
}
