//  rekey: authsvc's side of a key rotation (deploy/rekey). Every second it looks at the key ring file
//  (seal_ring_refresh: one lstat); when it changed, and once at start, it re-seals every record under the
//  ring's first key, RESEAL_BATCH records per write transaction every tick, while serving. The records per
//  key id are counted after each complete walk and every minute: metric rcauth_store_records{key_id}
//  (id 0: records with no sealed field, i.e. plaintext from before sealing) and log line rekey.usage.
#ifndef REKEY_H_INCLUDED
#define REKEY_H_INCLUDED

#include "authsvc/authsvc.h"

#define REKEY_TICK_MS 100
#define REKEY_BATCH 100

//  Make the metric family and start the first walk. Call once, before svc_run.
void rekey_init(authsvc_t *self);
//  The svc timer (every REKEY_TICK_MS; arg: the authsvc_t): watch the ring file, walk a step when one is under way.
void rekey_tick(svc_t *svc, void *arg);

#endif
