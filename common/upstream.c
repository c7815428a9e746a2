//  upstream: see upstream.h.
#include "common/upstream.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

//  Bodies larger than this are not parsed for RingCentral's words (an error body is small).
#define UPSTREAM_BODY_PARSE_MAX (64u << 10)

proto_code_t upstream_code(const http_response_t *resp)
{
    switch (resp->error) {
        case HTTP_OK: break;
        case HTTP_ETIMEOUT: return PROTO_UPSTREAM_TIMEOUT;
        case HTTP_ENETWORK: return PROTO_UPSTREAM_UNREACHABLE;
        case HTTP_ETOOBIG:
        case HTTP_ECANCELLED: return PROTO_UPSTREAM_ERROR;
    }
    long s = resp->status;
    if (s >= 200 && s < 300)
        return PROTO_OK;
    if (s == 429 || (s == 503 && resp->retry_after > 0))
        return PROTO_RATE_LIMITED;
    if (s >= 400 && s < 500)
        return PROTO_UPSTREAM_DENIED;
    return PROTO_UPSTREAM_ERROR;
}

const char *upstream_message(proto_code_t code, const http_response_t *resp)
{
    switch (code) {
        case PROTO_UPSTREAM_TIMEOUT: return "RingCentral did not answer in time";
        case PROTO_RATE_LIMITED: return "RingCentral asks us to slow down (rate limit)";
        case PROTO_UPSTREAM_REJECTED: return "RingCentral refused the request";
        case PROTO_UPSTREAM_DENIED: return "RingCentral refused this call";
        case PROTO_UPSTREAM_UNREACHABLE: return "RingCentral could not be reached";
        case PROTO_APP_REJECTED: return "RingCentral refused this app's credentials or grant type";
        case PROTO_UPSTREAM_ERROR:
            if (resp->error == HTTP_ENETWORK)
                return "RingCentral could not be reached";
            if (resp->error == HTTP_ETOOBIG)
                return "RingCentral sent an answer that is too large";
            return "RingCentral answered with an error";
        default: return "unexpected answer from RingCentral";
    }
}

long upstream_retry_after(const http_response_t *resp)
{
    if (resp->retry_after > 0)
        return resp->retry_after;
    return resp->status == 429 ? UPSTREAM_RETRY_AFTER_DEFAULT : -1;
}

//  Copy a code: only [A-Za-z0-9_.-], else "".
static void s_copy_code(char *dst, size_t size, const char *src)
{
    dst[0] = '\0';
    if (!src || !*src || strlen(src) >= size
        || strspn(src, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(src))
        return;
    memcpy(dst, src, strlen(src) + 1);
}

//  Copy a message (valid UTF-8 from jansson): control characters become spaces; cut at a character boundary.
static void s_copy_message(char *dst, size_t size, const char *src)
{
    dst[0] = '\0';
    if (!src)
        return;
    size_t n = strlen(src);
    if (n >= size) {
        n = size - 1;
        while (n > 0 && ((unsigned char) src[n] & 0xC0) == 0x80)
            n--;  //  src[n] is the first byte not copied: back off to the start of its character
    }
    for (size_t i = 0; i < n; i++)
        dst[i] = (unsigned char) src[i] < 0x20 || src[i] == 0x7f ? ' ' : src[i];
    dst[n] = '\0';
}

void upstream_detail_read(const http_response_t *resp, upstream_detail_t *d)
{
    memset(d, 0, sizeof *d);
    d->status = resp->error == HTTP_OK ? resp->status : 0;
    if (resp->error != HTTP_OK || !resp->body || resp->body_len == 0 || resp->body_len > UPSTREAM_BODY_PARSE_MAX)
        return;
    json_t *root = json_loadb(resp->body, resp->body_len, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return;
    }
    json_t *errors = json_object_get(root, "errors");
    json_t *first = json_is_array(errors) ? json_array_get(errors, 0) : NULL;
    s_copy_code(d->code, sizeof d->code, json_string_value(json_object_get(root, "errorCode")));
    if (!d->code[0])
        s_copy_code(d->code, sizeof d->code, json_string_value(json_object_get(root, "error")));
    for (size_t i = 0; !d->code[0] && json_is_array(errors) && i < json_array_size(errors) && i < 8; i++)
        s_copy_code(d->code, sizeof d->code,
                    json_string_value(json_object_get(json_array_get(errors, i), "errorCode")));
    const char *keys[] = { "message", "error_description" };
    for (size_t i = 0; !d->message[0] && i < 2; i++)
        s_copy_message(d->message, sizeof d->message, json_string_value(json_object_get(root, keys[i])));
    if (!d->message[0])
        s_copy_message(d->message, sizeof d->message, json_string_value(json_object_get(first, "message")));
    json_decref(root);
}

int upstream_detail_set(proto_msg_t *error, const char *env, const upstream_detail_t *d)
{
    int rc = 0;
    if (env && *env && proto_msg_set_str(error, "env", env) < 0)
        rc = -1;
    if (d && d->status > 0 && proto_msg_set_int(error, "upstream_status", d->status) < 0)
        rc = -1;
    if (d && d->code[0] && proto_msg_set_str(error, "upstream_code", d->code) < 0)
        rc = -1;
    if (d && d->message[0] && proto_msg_set_str(error, "upstream_message", d->message) < 0)
        rc = -1;
    return rc;
}

const char *upstream_detail_log(const upstream_detail_t *d, char *buf, size_t size)
{
    if (!size)
        return buf;
    buf[0] = '\0';
    size_t n = 0;
    if (d->status > 0)
        n += (size_t) snprintf(buf + n, size - n, " upstream_status=%ld", d->status);
    if (n < size && d->code[0])
        n += (size_t) snprintf(buf + n, size - n, " upstream_code=%s", d->code);
    if (n < size && d->message[0]) {
        char clean[201];
        size_t m = 0;
        for (const char *p = d->message; *p && m < sizeof clean - 1; p++)
            clean[m++] = *p == '"' || *p == '\\' ? '\'' : (unsigned char) *p < 0x20 ? ' ' : *p;
        while (m > 0 && ((unsigned char) d->message[m] & 0xC0) == 0x80 && m < strlen(d->message))
            m--;  //  do not end in the middle of a character
        clean[m] = '\0';
        snprintf(buf + n, size - n, " upstream_message=\"%s\"", clean);
    }
    return buf;
}

proto_msg_t *upstream_error_new(uint64_t rid, proto_code_t code, const char *message, int64_t retry_after,
                                const char *env, const upstream_detail_t *d)
{
    proto_msg_t *error = proto_error_new(rid, code, message, retry_after);
    if (error && upstream_detail_set(error, env, d) < 0)
        proto_msg_destroy(&error);
    return error;
}
