//  apis: see apis.h.
#include "gateway/apis.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

const apis_t *apis_find(const char *name)
{
    return proto_api_find(name);
}

const apis_t *apis_at(size_t i)
{
    return proto_api_at(i);
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

bool apis_depth_ok(const char *body, size_t len, int max)
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
    if (!body || !len || !apis_depth_ok(body, len, APIS_PRETTY_DEPTH))
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
