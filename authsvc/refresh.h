//  refresh: SESSION and REFRESH, with the refresh done exactly once (docs/ARCHITECTURE.md "Refresh, once").
//
//  In process: one job per session id; every REFRESH or SESSION that needs a
//  refresh while one runs waits on it. Across processes: the job first claims
//  the record's lease in an LMDB write transaction; a caller that finds a live
//  lease of another process polls the record until the new version appears or
//  the lease runs out. A REFRESH whose seen_version is already superseded is
//  answered with the current version and no upstream call. After a 429 the
//  session's refreshes wait out Retry-After.
//  Two timeouts: every waiter is answered (UPSTREAM_TIMEOUT for REFRESH) at most
//  RC timeout after it came, but the RingCentral call itself runs on up to a much
//  longer hard timeout under a lease that covers it, and its late answer is
//  applied as a timely one would be (RingCentral may complete a refresh we stopped
//  waiting for, and rotate the refresh token: see refresh.c).
#ifndef REFRESH_H_INCLUDED
#define REFRESH_H_INCLUDED

#include "authsvc/authsvc.h"

//  A new empty refresh table. Returns NULL out of memory.
refresh_t *refresh_new(void);
//  Free the table and set *self_p to NULL (waiters must have been answered). Safe with NULL.
void refresh_destroy(refresh_t **self_p);
//  SESSION {sid} -> SESSION_OK {logged_in, env, access_expires_in, owner_id, version}, refreshing a stale access token first.
void refresh_session(authsvc_t *self, const svc_peer_t *peer, proto_msg_t *req);
//  REFRESH {sid, seen_version} -> REFRESH_OK {version}, or ERROR NOT_LOGGED_IN / RATE_LIMITED / UPSTREAM_*.
void refresh_request(authsvc_t *self, const svc_peer_t *peer, proto_msg_t *req);
//  Timer: move on the jobs that wait for another process's lease, answer waiters past their timeout. Call every ~50 ms.
void refresh_tick(svc_t *svc, void *arg);
//  True while a refresh of this process is under way or holds a new pair not yet stored (claim, transfer,
//  settling, kept in memory): the drain at SIGTERM waits for these, so no rotated pair dies with the process.
bool refresh_busy(const refresh_t *self);
//  At shutdown (after http_destroy and authsvc_after: no transfer or settling may be left): try once more to store
//  the pairs kept in memory, then answer every waiter with ERROR UNAVAILABLE.
void refresh_abort_all(authsvc_t *self);

#endif
