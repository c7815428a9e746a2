//  stats: authsvc's metrics (common/metrics.h, the default registry), served by the gateway through STATS.
//
//      rcauth_oauth_token_requests_total{grant,result}   grant: authorization_code, refresh_token, revoke;
//                                                        result: ok, rejected (a 4xx but 429), error, timeout
//      rcauth_oauth_token_duration_seconds{grant}        histogram
//      rcauth_refresh_coalesced_total                    refresh requests served without a call of their own
//      rcauth_refresh_last_success_timestamp_seconds     gauges, 0 until the first
//      rcauth_refresh_last_failure_timestamp_seconds
//      rcauth_sessions, rcauth_pending_logins            records in the store (expired ones not yet swept included)
//      rcauth_store_map_used_ratio, rcauth_store_readers the LMDB map's use and its reader slots
//  (rcauth_store_commit_duration_seconds is common/store_txn.c's.) Nothing here without metrics_init.
#ifndef STATS_H_INCLUDED
#define STATS_H_INCLUDED

#include "authsvc/authsvc.h"

//  Make the families; the store's figures are read from self->store at each render. Call once, before svc_run.
void stats_init(authsvc_t *self);
//  A token endpoint call of grant ("authorization_code", "refresh_token", "revoke") ended with resp.
void stats_token(const char *grant, const http_response_t *resp);
//  A refresh request was answered by another's refresh (joined one in flight, or found the version moved on).
void stats_refresh_coalesced(void);
//  A refresh ended: its new pair stored (ok), or failed.
void stats_refresh_result(bool ok);

#endif
