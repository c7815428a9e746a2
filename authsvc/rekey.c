//  rekey: see rekey.h.
#include "authsvc/rekey.h"

#include "common/log.h"
#include "common/metrics.h"
#include "common/seal.h"

#include <stdio.h>

#define S_FILE_CHECK_TICKS (1000 / REKEY_TICK_MS)
#define S_USAGE_TICKS (60000 / REKEY_TICK_MS)
#define S_IDS_MAX (SEAL_KEYS_MAX + 1)

static struct {
    metrics_family_t *records;
    bool walking;
    unsigned ticks;
    size_t resealed, dropped;
} s_rk;

//  The count of id in ids/counts (0 when absent).
static size_t s_count_of(uint32_t id, const uint32_t *ids, const size_t *counts, size_t n)
{
    for (size_t j = 0; j < n; j++)
        if (ids[j] == id)
            return counts[j];
    return 0;
}

static void s_show(uint32_t id, size_t count, char *line, size_t size, size_t *at)
{
    char label[16];
    snprintf(label, sizeof label, "%u", id);
    if (s_rk.records)
        metrics_set(s_rk.records, (const char *[]){ label }, (double) count);
    if (*at < size)
        *at += (size_t) snprintf(line + *at, size - *at, "%s%u:%zu", *at ? "," : "", id, count);
}

//  Count the records per key id into the metric and one log line: the ring's keys (0 when nothing uses one: the
//  one a retirement waits for), then any other id found (0: plaintext, or a key no longer in the ring).
static void s_usage(authsvc_t *self)
{
    uint32_t ids[S_IDS_MAX], ring[SEAL_KEYS_MAX];
    size_t counts[S_IDS_MAX], n = 0;
    if (store_key_usage(self->store, ids, counts, S_IDS_MAX, &n) != 0)
        return;
    size_t nring = seal_ring_ids(self->ring, ring, SEAL_KEYS_MAX);
    char line[S_IDS_MAX * 2 * 24] = "";
    size_t at = 0;
    for (size_t i = 0; i < nring; i++)
        s_show(ring[i], s_count_of(ring[i], ids, counts, n), line, sizeof line, &at);
    size_t ones[SEAL_KEYS_MAX] = { 0 };
    for (size_t i = 0; i < nring && i < SEAL_KEYS_MAX; i++)
        ones[i] = 1;
    for (size_t j = 0; j < n; j++)
        if (s_count_of(ids[j], ring, ones, nring) == 0)
            s_show(ids[j], counts[j], line, sizeof line, &at);
    log_info("rekey.usage", "sealing=%u records=%s", seal_ring_first_id(self->ring), line);
}

void rekey_init(authsvc_t *self)
{
    metrics_t *m = metrics_default();
    if (m)
        s_rk.records = metrics_gauge(
            m, "rcauth_store_records",
            "Records (sessions and pending logins) per key id that sealed them (0: not sealed).", "key_id");
    s_rk.walking = true;  //  a rotation cut short by a restart goes on; plaintext from before sealing goes
    (void) self;
}

void rekey_tick(svc_t *svc, void *arg)
{
    (void) svc;
    authsvc_t *self = arg;
    s_rk.ticks++;
    if (s_rk.ticks % S_FILE_CHECK_TICKS == 0 && seal_ring_refresh(self->ring) == 1) {
        log_info("rekey.start", "sealing=%u", seal_ring_first_id(self->ring));
        s_rk.walking = true;
    }
    if (s_rk.walking) {
        store_reseal_t r;
        int rc = store_reseal_step(self->store, REKEY_BATCH, &r);
        if (rc != 0) {
            authsvc_store_log("reseal", 0, rc);
            return;  //  tried again next tick
        }
        s_rk.resealed += r.resealed;
        s_rk.dropped += r.dropped;
        if (r.clean) {
            log_info("rekey.done", "sealing=%u resealed=%zu dropped=%zu", seal_ring_first_id(self->ring), s_rk.resealed,
                     s_rk.dropped);
            s_rk.walking = false;
            s_rk.resealed = s_rk.dropped = 0;
            s_usage(self);
        }
    }
    else if (s_rk.ticks % S_USAGE_TICKS == 0)
        s_usage(self);
}
