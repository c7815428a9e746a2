//  fault: the queue of faults injected by POST /_mock/fault.
//
//  A fault applies to the next `count` requests of its target. Each request
//  is of exactly one kind (a fault_leaf_t); a target is a set of kinds
//  ("token" = code + refresh + other grants, "api" = the three APIs, "any" =
//  all). Faults are matched in the order they were queued. Thread-safe.
#ifndef MOCKRC_FAULT_H_INCLUDED
#define MOCKRC_FAULT_H_INCLUDED

#include <jansson.h>
#include <stddef.h>

//  What a RingCentral request is, for matching faults.
typedef enum {
    FAULT_AUTHORIZE = 1u << 0,    //  GET or POST /restapi/oauth/authorize
    FAULT_CODE = 1u << 1,         //  token, grant_type=authorization_code
    FAULT_REFRESH = 1u << 2,      //  token, grant_type=refresh_token
    FAULT_TOKEN_OTHER = 1u << 3,  //  token, any other or no grant_type
    FAULT_REVOKE = 1u << 4,
    FAULT_EXTENSION = 1u << 5,
    FAULT_EXTENSION_CALL_LOG = 1u << 6,
    FAULT_ACCOUNT_CALL_LOG = 1u << 7,
} fault_leaf_t;

typedef enum {
    FAULT_500,
    FAULT_503,
    FAULT_429,
    FAULT_SLOW,
    FAULT_GARBAGE,
    FAULT_DROP,
    FAULT_HANG,
    FAULT_403_PERMISSION,       //  403 InsufficientPermissions: the app lacks [ReadCallLog]
    FAULT_403_ADMIN,            //  403 CMN-408: the user lacks [ReadCompanyCallLog] (not an admin)
    FAULT_INVALID_CLIENT,       //  401 invalid_client (wrong client id or secret)
    FAULT_UNAUTHORIZED_CLIENT,  //  400 unauthorized_client OAU-251 (the app's auth type)
    FAULT_KIND_COUNT
} fault_kind_t;

typedef struct {
    unsigned targets;  //  set of fault_leaf_t
    char target[24];   //  the target's name, as given
    fault_kind_t kind;
    long count;        //  requests left to fault
    long retry_after;  //  seconds, for 429 and 503
    long delay_ms;     //  for slow
} fault_t;

typedef struct _fault_queue_t fault_queue_t;

//  Parse a fault spec {"target","kind","count","retry_after","delay_ms"} into out.
//  Returns 0, or -1 with a reason in err.
int fault_parse(const json_t *spec, fault_t *out, char *err, size_t err_size);
//  The fault as a new JSON object. Returns NULL when out of memory.
json_t *fault_json(const fault_t *fault);
//  The status and RingCentral-shaped JSON body of an error-body kind (403-permission, 403-admin,
//  invalid_client, unauthorized_client). Returns NULL for the other kinds.
const char *fault_body(fault_kind_t kind, int *status_p);
//  The name of kind ("500", "slow", ...).
const char *fault_kind_name(fault_kind_t kind);

//  Create an empty queue. Returns NULL when out of memory.
fault_queue_t *fault_queue_new(void);
//  Destroy the queue and set *self_p to NULL. Safe with NULL.
void fault_queue_destroy(fault_queue_t **self_p);
//  Append a fault. Returns 0, or -1 when the queue is full.
int fault_queue_push(fault_queue_t *self, const fault_t *fault);
//  Take one use of the first queued fault matching leaf into out. Returns 1 when one applies, else 0.
int fault_queue_take(fault_queue_t *self, unsigned leaf, fault_t *out);
//  Remove every queued fault.
void fault_queue_clear(fault_queue_t *self);
//  The queued faults as a new JSON array. Returns NULL when out of memory.
json_t *fault_queue_json(fault_queue_t *self);

#endif
