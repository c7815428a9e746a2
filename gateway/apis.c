//  apis: see apis.h.
#include "gateway/apis.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const apis_t s_apis[] = {
    { "extension", "Extensions", "/restapi/v1.0/account/~/extension" },
    { "extension-call-log", "My call log", "/restapi/v1.0/account/~/extension/~/call-log" },
    { "account-call-log", "Account call log", "/restapi/v1.0/account/~/call-log" },
};
#define API_COUNT (sizeof s_apis / sizeof s_apis[0])

const apis_t *apis_find(const char *name)
{
    for (size_t i = 0; name && i < API_COUNT; i++)
        if (strcmp(s_apis[i].name, name) == 0)
            return &s_apis[i];
    return NULL;
}

const apis_t *apis_at(size_t i)
{
    return i < API_COUNT ? &s_apis[i] : NULL;
}

//  A growing output buffer that refuses to pass APIS_PRETTY_MAX.
typedef struct {
    char *data;
    size_t len, cap;
} s_out_t;

static int s_out_add(const char *buf, size_t size, void *arg)
{
    s_out_t *out = arg;
    if (size > APIS_PRETTY_MAX - out->len)
        return -1;
    if (out->len + size + 1 > out->cap) {
        size_t cap = out->cap ? out->cap : 4096;
        while (cap < out->len + size + 1)
            cap *= 2;
        char *data = realloc(out->data, cap);
        if (!data)
            return -1;
        out->data = data;
        out->cap = cap;
    }
    memcpy(out->data + out->len, buf, size);
    out->len += size;
    out->data[out->len] = '\0';
    return 0;
}

//  True when no array or object in body[0..len) nests deeper than max (strings skipped; not a validation).
static bool s_depth_ok(const char *body, size_t len, int max)
{
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = body[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        }
        else if (c == '"')
            in_string = true;
        else if (c == '[' || c == '{') {
            if (++depth > max)
                return false;
        }
        else if (c == ']' || c == '}')
            depth--;
    }
    return true;
}

char *apis_pretty_json(const char *body, size_t len)
{
    //  Checked before jansson sees it: a deep body would overflow the worker's stack (a crash).
    if (!body || !len || !s_depth_ok(body, len, APIS_PRETTY_DEPTH))
        return NULL;
    json_error_t err;
    //  The body is bounded by the protocol (PROTO_BODY_MAX) and jansson bounds the depth;
    //  the output is bounded while it is written (deep nesting multiplies indentation).
    json_t *root = json_loadb(body, len, JSON_DECODE_ANY, &err);
    if (!root)
        return NULL;
    s_out_t out = { 0 };
    int rc = json_dump_callback(root, s_out_add, &out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    json_decref(root);
    if (rc != 0 || !out.data) {
        free(out.data);
        return NULL;
    }
    return out.data;
}
