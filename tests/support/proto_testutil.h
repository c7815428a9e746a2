//  proto_testutil: helpers shared by proto_test.c and proto_hostile_test.c (test code only).
#ifndef PROTO_TESTUTIL_H_INCLUDED
#define PROTO_TESTUTIL_H_INCLUDED

#include "proto/proto.h"
#include "tests/testlib.h"

#include <stdlib.h>
#include <string.h>

//  --------------------------------------------------------------------------
//  Helpers: messages filled from the schema, comparison, encode/decode shortcuts.

typedef enum { FILL_MAX, FILL_MIN, FILL_MID } fill_t;

//  A message of type with every field set (FILL_MAX: strings at their max, ints
//  at the int64 limits; FILL_MID: short strings with odd bytes) or only the
//  required ones at their smallest (FILL_MIN).
static inline proto_msg_t *s_fill(proto_type_t type, uint64_t rid, fill_t fill)
{
    const proto_msgdef_t *def = proto_schema(type);
    proto_msg_t *msg = proto_msg_new(type, rid);
    for (size_t i = 0; msg && i < def->field_count; i++) {
        const proto_field_t *f = &def->fields[i];
        if (fill == FILL_MIN && !f->required)
            continue;
        int rc = -1;
        if (f->type == PROTO_F_STR) {
            size_t len = fill == FILL_MAX ? f->max : fill == FILL_MIN ? 0 : 9 + i;
            char *s = malloc(len + 1);
            for (size_t k = 0; k < len; k++)
                s[k] = fill == FILL_MAX ? (char) ('a' + (k * 7 + i) % 26) : "x\"\\\x01\xc3\xa9 q="[k % 9];
            rc = proto_msg_set_strn(msg, f->name, s, len);
            free(s);
        }
        else if (f->type == PROTO_F_INT) {
            int64_t v = fill == FILL_MAX ? (i % 2 ? INT64_MIN : INT64_MAX) : fill == FILL_MIN ? 0 : -300 + (int64_t) i;
            rc = proto_msg_set_int(msg, f->name, v);
        }
        else
            rc = proto_msg_set_bool(msg, f->name, fill != FILL_MIN);
        if (!CHECK(rc == 0))
            proto_msg_destroy(&msg);
    }
    return msg;
}

//  Decode data and expect failure. Returns the reason (never NULL when it failed as it should).
static inline const char *s_reject(const void *data, size_t size, uint64_t *rid_p)
{
    const char *why = NULL;
    uint64_t rid = 12345;
    proto_msg_t *msg = proto_decode(data, size, &why, &rid);
    bool ok = CHECK(msg == NULL) && CHECK(why != NULL && *why);
    proto_msg_destroy(&msg);
    if (rid_p)
        *rid_p = rid;
    return ok ? why : "(decoded)";
}

//  Encode msg; the test fails when it cannot.
static inline char *s_encode(const proto_msg_t *msg, size_t *size)
{
    char *data = NULL;
    CHECK(proto_encode(msg, &data, size) == 0 && data != NULL);
    return data;
}

static inline bool s_contains(const char *text, const char *needle)
{
    return strstr(text, needle) != NULL;
}

#endif
