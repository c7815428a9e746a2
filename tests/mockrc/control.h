//  control: the mock's own endpoints under /_mock/ (not RingCentral's): health,
//  counters, faults, expire-all, revoke-all, reset, config and tokens. JSON in and out.
#ifndef MOCKRC_CONTROL_H_INCLUDED
#define MOCKRC_CONTROL_H_INCLUDED

#include "tests/mockrc/state.h"

#include <civetweb.h>

//  The actions of control_action (the route table's arg).
typedef enum {
    CONTROL_HEALTH,
    CONTROL_COUNTERS,
    CONTROL_FAULT_ADD,
    CONTROL_FAULT_LIST,
    CONTROL_FAULT_CLEAR,
    CONTROL_EXPIRE_ALL,
    CONTROL_REVOKE_ALL,
    CONTROL_RESET,
    CONTROL_CONFIG_GET,
    CONTROL_CONFIG_SET,
    CONTROL_TOKENS,
} control_action_t;

//  Handle the control action arg (a control_action_t). Returns the HTTP status sent.
int control_action(struct mg_connection *c, state_t *st, int arg);
//  Merge the keys of patch into cfg (unknown keys and bad values refused). Returns 0, or -1 with err set.
int control_config_merge(state_config_t *cfg, const json_t *patch, char *err, size_t err_size);
//  cfg as a new JSON object. Returns NULL when out of memory.
json_t *control_config_json(const state_config_t *cfg);

#endif
