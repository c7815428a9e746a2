//  oauth: see oauth.h.
#include "authsvc/oauth.h"
#include "authsvc/stats.h"
#include "common/upstream.h"

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OAUTH_FORM_MAX (3 * STORE_TOKEN_MAX + 1024)

int oauth_authorize_url(const config_rc_t *rc, const char *state, const char *challenge, char *out, size_t size)
{
    CURLU *u = curl_url();
    if (!u)
        return -1;
    char base[CONFIG_VALUE_MAX + 64];
    snprintf(base, sizeof base, "%s/restapi/oauth/authorize", rc->server_url);
    const char *params[][2] = {
        { "response_type", "code" }, { "client_id", rc->client_id },  { "redirect_uri", rc->redirect_url },
        { "state", state },          { "code_challenge", challenge }, { "code_challenge_method", "S256" },
    };
    int rc_code = curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK ? 0 : -1;
    for (size_t i = 0; rc_code == 0 && i < sizeof params / sizeof params[0]; i++) {
        char pair[CONFIG_VALUE_MAX + 64];
        snprintf(pair, sizeof pair, "%s=%s", params[i][0], params[i][1]);
        //  CURLU_URLENCODE encodes the value part; APPENDQUERY adds the '&'.
        if (curl_url_set(u, CURLUPART_QUERY, pair, CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK)
            rc_code = -1;
    }
    char *url = NULL;
    if (rc_code == 0 && curl_url_get(u, CURLUPART_URL, &url, 0) == CURLUE_OK && strlen(url) < size)
        snprintf(out, size, "%s", url);
    else
        rc_code = -1;
    curl_free(url);
    curl_url_cleanup(u);
    return rc_code;
}

//  A call of the token endpoint and who waits for it: counted (stats_token), then handed on.
typedef struct {
    const char *grant;
    http_done_fn *done;
    void *arg;
} s_call_t;

static void s_call_done(const http_response_t *resp, void *arg)
{
    s_call_t call = *(s_call_t *) arg;
    free(arg);
    stats_token(call.grant, resp);
    call.done(resp, call.arg);
}

//  POST the form of fields (name, value pairs) to path with Basic auth (total timeout timeout_ms,
//  0: the client's), then wipe it (it holds codes, tokens or the verifier). Returns 0, or -1 (done is never called).
static int s_post(http_t *http, const config_rc_t *rc, const char *path, const char *grant,
                  const char *const (*fields)[2], size_t count, long timeout_ms, http_done_fn *done, void *arg)
{
    s_call_t *call = malloc(sizeof *call);
    if (!call)
        return -1;
    *call = (s_call_t){ grant, done, arg };
    char form[OAUTH_FORM_MAX];
    form[0] = '\0';
    int rc_code = 0;
    for (size_t i = 0; rc_code == 0 && i < count; i++)
        rc_code = http_form_add(form, sizeof form, fields[i][0], fields[i][1]);
    if (rc_code == 0) {
        char url[CONFIG_VALUE_MAX + 64];
        snprintf(url, sizeof url, "%s%s", rc->server_url, path);
        http_request_t req = {
            .method = "POST",
            .url = url,
            .form = form,
            .basic_user = rc->client_id,
            .basic_pass = rc->client_secret,
            .timeout_ms = timeout_ms,
        };
        rc_code = http_start(http, &req, s_call_done, call);
    }
    sodium_memzero(form, strnlen(form, sizeof form));
    if (rc_code != 0)
        free(call);
    return rc_code;
}

int oauth_start_exchange(http_t *http, const config_rc_t *rc, const char *code, const char *verifier,
                         http_done_fn *done, void *arg)
{
    const char *const fields[][2] = {
        { "grant_type", "authorization_code" },
        { "code", code },
        { "redirect_uri", rc->redirect_url },
        { "code_verifier", verifier },
    };
    return s_post(http, rc, "/restapi/oauth/token", "authorization_code", fields, sizeof fields / sizeof fields[0], 0,
                  done, arg);
}

int oauth_start_refresh(http_t *http, const config_rc_t *rc, const char *refresh_token, long timeout_ms,
                        http_done_fn *done, void *arg)
{
    const char *const fields[][2] = { { "grant_type", "refresh_token" }, { "refresh_token", refresh_token } };
    return s_post(http, rc, "/restapi/oauth/token", "refresh_token", fields, sizeof fields / sizeof fields[0],
                  timeout_ms, done, arg);
}

int oauth_start_revoke(http_t *http, const config_rc_t *rc, const char *token, http_done_fn *done, void *arg)
{
    const char *const fields[][2] = { { "token", token } };
    return s_post(http, rc, "/restapi/oauth/revoke", "revoke", fields, sizeof fields / sizeof fields[0], 0, done, arg);
}

//  Copy a JSON string member into dst. Returns 0, 1 when absent and optional, or -1.
static int s_get_str(json_t *obj, const char *key, char *dst, size_t size, int required)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return required ? -1 : 1;
    if (json_is_integer(v)) {  //  owner_id may come as a number
        snprintf(dst, size, "%lld", (long long) json_integer_value(v));
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= size
        || strlen(json_string_value(v)) != json_string_length(v))
        return -1;
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

static int s_get_seconds(json_t *obj, const char *key, json_int_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_string(v)) {  //  some SDK fixtures send numbers as strings
        char *end;
        long long n = strtoll(json_string_value(v), &end, 10);
        if (*end || end == json_string_value(v))
            return -1;
        *out = n;
    }
    else if (json_is_integer(v))
        *out = json_integer_value(v);
    else
        return -1;
    return *out > 0 && *out <= 10LL * 365 * 24 * 3600 ? 0 : -1;
}

int oauth_parse_tokens(const char *body, size_t len, int64_t now_ms, store_session_t *rec, const char **why_p)
{
    const char *why = NULL;
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    json_int_t expires_in = 0, refresh_expires_in = 0;
    json_t *type = root ? json_object_get(root, "token_type") : NULL;
    if (!json_is_object(root))
        why = "token response is not a JSON object";
    else if (s_get_str(root, "access_token", rec->access_token, sizeof rec->access_token, 1) != 0)
        why = "token response has no usable access_token";
    else if (s_get_str(root, "refresh_token", rec->refresh_token, sizeof rec->refresh_token, 1) != 0)
        why = "token response has no usable refresh_token";
    else if (!json_is_string(type) || strcasecmp(json_string_value(type), "bearer") != 0)
        why = "token_type is not bearer";
    else if (s_get_seconds(root, "expires_in", &expires_in) != 0)
        why = "expires_in missing or out of range";
    else if (s_get_seconds(root, "refresh_token_expires_in", &refresh_expires_in) != 0)
        why = "refresh_token_expires_in missing or out of range";
    else if (s_get_str(root, "owner_id", rec->owner_id, sizeof rec->owner_id, 0) < 0
             || s_get_str(root, "scope", rec->scope, sizeof rec->scope, 0) < 0)
        why = "owner_id or scope malformed";
    json_decref(root);
    if (why) {
        sodium_memzero(rec->access_token, sizeof rec->access_token);
        sodium_memzero(rec->refresh_token, sizeof rec->refresh_token);
        if (why_p)
            *why_p = why;
        return -1;
    }
    rec->expires_at = now_ms + (int64_t) expires_in * 1000;
    rec->refresh_expires_at = now_ms + (int64_t) refresh_expires_in * 1000;
    return 0;
}

proto_code_t oauth_classify(const http_response_t *resp, const char **reason_p, upstream_detail_t *detail)
{
    upstream_detail_t local;
    upstream_detail_t *d = detail ? detail : &local;
    upstream_detail_read(resp, d);
    proto_code_t code = upstream_code(resp);
    const char *reason = http_strerror(resp->error);
    if (resp->error == HTTP_OK) {
        //  The OAuth error word (invalid_grant, invalid_client ...) when the body has one, and its nested code.
        bool app = false;
        static _Thread_local char word[UPSTREAM_CODE_MAX + 1];
        word[0] = '\0';
        if (resp->status >= 400 && resp->status < 500 && resp->body_len <= (64u << 10)) {
            json_t *root = json_loadb(resp->body, resp->body_len, 0, NULL);
            const char *err = json_string_value(json_object_get(root, "error"));
            if (err && strlen(err) < sizeof word && strspn(err, "abcdefghijklmnopqrstuvwxyz_") == strlen(err))
                snprintf(word, sizeof word, "%s", err);
            json_t *errors = json_object_get(root, "errors");
            for (size_t i = 0; json_is_array(errors) && i < json_array_size(errors) && i < 8; i++) {
                const char *nested = json_string_value(json_object_get(json_array_get(errors, i), "errorCode"));
                if (nested && strcmp(nested, "OAU-251") == 0)
                    app = true;  //  "Unauthorized for this grant type": the app's auth type
            }
            json_decref(root);
        }
        if (strcmp(word, "invalid_client") == 0 || strcmp(word, "unauthorized_client") == 0)
            app = true;
        if (code == PROTO_OK)
            reason = "ok";
        else if (code == PROTO_RATE_LIMITED)
            reason = "rate_limited";
        else if (app || resp->status == 401) {
            //  Our client id or secret, or the app's auth type: no login of this app can work until it is fixed.
            code = PROTO_APP_REJECTED;
            reason = word[0] ? word : "invalid_client";
        }
        else if (resp->status >= 400 && resp->status < 500) {
            code = PROTO_UPSTREAM_REJECTED;
            reason = word[0] ? word : resp->status == 400 ? "invalid_grant" : "rejected";
        }
        else
            reason = "server_error";
    }
    if (reason_p)
        *reason_p = reason;
    return code;
}
