//  proto_test: the schema, the message object, encoding, describe() and the ERROR helpers.
//  Hostile input (truncated, wrong-typed, oversize, random frames) is in proto_hostile_test.c.
#include "proto/proto.h"
#include "proto/proto_api.h"
#include "tests/support/proto_testutil.h"
#include "tests/testlib.h"

#include <inttypes.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

//  --------------------------------------------------------------------------
//  The schema and the name tables.

static void t_schema(void)
{
    CHECK(proto_schema(PROTO_INVALID) == NULL);
    CHECK(proto_schema(PROTO_TYPE_COUNT) == NULL);
    CHECK(proto_schema((proto_type_t) -1) == NULL);
    for (int t = 1; t < PROTO_TYPE_COUNT; t++) {
        const proto_msgdef_t *def = proto_schema((proto_type_t) t);
        if (!CHECK(def != NULL) || !CHECK(def->name != NULL))
            continue;
        CHECK(def->type == (proto_type_t) t);
        CHECK(def->field_count <= 8 && (def->field_count == 0 || def->fields != NULL));
        for (size_t i = 0; i < def->field_count; i++) {
            const proto_field_t *f = &def->fields[i];
            for (size_t j = 0; j < i; j++)
                CHECK(strcmp(def->fields[j].name, f->name) != 0);
            if (f->type == PROTO_F_STR)
                CHECK(f->max > 0 && (f->max <= PROTO_FIELD_MAX || (t == PROTO_API_OK && f->max == PROTO_BODY_MAX)));
            //  Whatever names a session, state or code is a secret.
            if (strcmp(f->name, "sid") == 0 || strcmp(f->name, "new_sid") == 0 || strcmp(f->name, "code") == 0
                || strcmp(f->name, "state") == 0)
                CHECK(f->secret || t == PROTO_ERROR);
        }
        //  Every request has its _OK reply; replies have none.
        proto_type_t reply = proto_reply_type((proto_type_t) t);
        size_t n = strlen(def->name);
        bool is_reply = t == PROTO_ERROR || (n > 3 && strcmp(def->name + n - 3, "_OK") == 0);
        if (is_reply)
            CHECK(reply == PROTO_INVALID);
        else if (CHECK(reply != PROTO_INVALID)) {
            char want[64];
            snprintf(want, sizeof want, "%s_OK", def->name);
            CHECK(strcmp(proto_type_name(reply), want) == 0);
        }
    }
    CHECK(proto_reply_type(PROTO_INVALID) == PROTO_INVALID);
    CHECK(proto_reply_type(PROTO_TYPE_COUNT) == PROTO_INVALID);
    //  Asking the schema whether a type has a field is no error (unlike naming it to a getter).
    const proto_field_t *sid = proto_schema_field(PROTO_SESSION, "sid");
    CHECK(sid && sid->type == PROTO_F_STR && sid->max == PROTO_SID_MAX && sid->secret);
    CHECK(proto_schema_field(PROTO_PING, "sid") == NULL && proto_schema_field(PROTO_SESSION, "nope") == NULL);
    CHECK(proto_schema_field(PROTO_SESSION, NULL) == NULL && proto_schema_field(PROTO_INVALID, "sid") == NULL);
}

//  The limits other modules hold values by (proto.h PROTO_*_MAX) are the schema's own, in every row.
static void t_limits(void)
{
    const struct {
        const char *field;
        size_t max;
    } limits[] = {
        { "sid", PROTO_SID_MAX },
        { "new_sid", PROTO_SID_MAX },
        { "env", PROTO_ENV_MAX },
        { "owner_id", PROTO_OWNER_MAX },
        { "url", PROTO_AUTH_URL_MAX },
        { "state", PROTO_STATE_MAX },
        { "api", PROTO_API_NAME_MAX },
        { "params", PROTO_API_PARAMS_MAX },
        { "upstream_code", PROTO_UPSTREAM_CODE_MAX },
        { "upstream_message", PROTO_UPSTREAM_MESSAGE_MAX },
    };
    size_t seen[sizeof limits / sizeof limits[0]] = { 0 };
    for (int t = 1; t < PROTO_TYPE_COUNT; t++) {
        const proto_msgdef_t *def = proto_schema((proto_type_t) t);
        for (size_t i = 0; i < def->field_count; i++)
            for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++)
                if (strcmp(def->fields[i].name, limits[l].field) == 0) {
                    CHECK(def->fields[i].type == PROTO_F_STR && def->fields[i].max == limits[l].max);
                    seen[l]++;
                }
    }
    for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++)
        CHECK(seen[l] > 0);
    //  EXCHANGE's code is RingCentral's authorization code (ERROR's code is an error code name).
    const proto_msgdef_t *exchange = proto_schema(PROTO_EXCHANGE);
    CHECK(strcmp(exchange->fields[1].name, "code") == 0 && exchange->fields[1].max == PROTO_AUTH_CODE_MAX);
}

static void t_type_names(void)
{
    for (int t = 1; t < PROTO_TYPE_COUNT; t++) {
        const char *name = proto_type_name((proto_type_t) t);
        CHECK(proto_type_parse(name, strlen(name)) == (proto_type_t) t);
        CHECK(proto_type_parse(name, strlen(name) - 1) == PROTO_INVALID);
    }
    CHECK(strcmp(proto_type_name(PROTO_INVALID), "INVALID") == 0);
    CHECK(strcmp(proto_type_name(PROTO_TYPE_COUNT), "INVALID") == 0);
    CHECK(strcmp(proto_type_name(PROTO_AUTH_URL), "AUTH_URL") == 0);
    CHECK(proto_type_parse("INVALID", 7) == PROTO_INVALID);
    CHECK(proto_type_parse("auth_url", 8) == PROTO_INVALID);
    CHECK(proto_type_parse("AUTH_URL\0X", 10) == PROTO_INVALID);
    CHECK(proto_type_parse("", 0) == PROTO_INVALID);
    CHECK(proto_type_parse(NULL, 3) == PROTO_INVALID);
    //  HOLD {sid, until} -> HOLD_OK {}: both fields required.
    CHECK(proto_type_parse("HOLD", 4) == PROTO_HOLD && proto_reply_type(PROTO_HOLD) == PROTO_HOLD_OK);
    proto_msg_t *hold = proto_msg_new(PROTO_HOLD, 9);
    char *data = NULL;
    size_t size = 0;
    CHECK(hold && proto_msg_set_str(hold, "sid", "s") == 0 && proto_encode(hold, &data, &size) == -1);
    CHECK(proto_msg_set_int(hold, "until", 1800000000000) == 0 && proto_encode(hold, &data, &size) == 0);
    CHECK(proto_msg_set_str(hold, "until", "soon") == -1);
    free(data);
    proto_msg_destroy(&hold);
}

static void t_code_names(void)
{
    const char *names[] = { "BAD_REQUEST",    "NOT_LOGGED_IN",    "STATE_MISMATCH",  "UPSTREAM_REJECTED",
                            "UPSTREAM_ERROR", "UPSTREAM_TIMEOUT", "RATE_LIMITED",    "UNAVAILABLE",
                            "STORE_FULL",     "INTERNAL",         "UPSTREAM_DENIED", "UPSTREAM_UNREACHABLE",
                            "APP_REJECTED" };
    CHECK(sizeof names / sizeof names[0] == PROTO_CODE_COUNT - 1);
    for (int c = 1; c < PROTO_CODE_COUNT; c++) {
        CHECK(strcmp(proto_code_name((proto_code_t) c), names[c - 1]) == 0);
        CHECK(proto_code_parse(names[c - 1]) == (proto_code_t) c);
    }
    CHECK(strcmp(proto_code_name(PROTO_OK), "OK") == 0);
    CHECK(strcmp(proto_code_name(PROTO_CODE_COUNT), "INTERNAL") == 0);
    CHECK(strcmp(proto_code_name((proto_code_t) -3), "INTERNAL") == 0);
    CHECK(proto_code_parse("OK") == PROTO_OK);
    CHECK(proto_code_parse("bad_request") == PROTO_OK);
    CHECK(proto_code_parse("") == PROTO_OK);
    CHECK(proto_code_parse(NULL) == PROTO_OK);
}

//  --------------------------------------------------------------------------
//  The message object and encoding.

static void t_roundtrip_all(void)
{
    const uint64_t rids[] = { 0, 1, 0x7f3a, UINT64_MAX };
    const fill_t fills[] = { FILL_MAX, FILL_MIN, FILL_MID };
    int tried = 0;
    for (int t = 1; t < PROTO_TYPE_COUNT; t++)
        for (size_t f = 0; f < 3; f++) {
            proto_msg_t *msg = s_fill((proto_type_t) t, rids[(t + f) % 4], fills[f]);
            if (!CHECK(msg != NULL))
                continue;
            size_t size = 0;
            char *data = s_encode(msg, &size);
            CHECK(size <= PROTO_FRAME_MAX);
            const char *why = "unset";
            uint64_t rid = 0;
            proto_msg_t *back = proto_decode(data, size, &why, &rid);
            CHECK(back != NULL && why == NULL);
            CHECK(rid == proto_msg_rid(msg));
            CHECK(proto_msg_equal(msg, back));
            //  Re-encoding the decoded message gives the same bytes.
            size_t size2 = 0;
            char *data2 = s_encode(back, &size2);
            CHECK(size2 == size && data2 && memcmp(data, data2, size) == 0);
            tried++;
            free(data);
            free(data2);
            proto_msg_destroy(&back);
            proto_msg_destroy(&msg);
            CHECK(msg == NULL);
        }
    CHECK(tried == 3 * (PROTO_TYPE_COUNT - 1));
    //  The largest frame the schema allows is under PROTO_FRAME_MAX; the body
    //  sets the size, so a body of PROTO_BODY_MAX must fit.
    proto_msg_t *api = s_fill(PROTO_API_OK, UINT64_MAX, FILL_MAX);
    CHECK(proto_msg_strlen(api, "body") == PROTO_BODY_MAX);
    proto_msg_destroy(&api);
}

static void t_setters(void)
{
    CHECK(proto_msg_new(PROTO_INVALID, 1) == NULL);
    CHECK(proto_msg_new(PROTO_TYPE_COUNT, 1) == NULL);
    proto_msg_destroy(NULL);
    proto_msg_t *none = NULL;
    proto_msg_destroy(&none);
    CHECK(proto_msg_type(NULL) == PROTO_INVALID && proto_msg_rid(NULL) == 0);
    CHECK(proto_msg_set_str(NULL, "sid", "x") == -1);

    proto_msg_t *msg = proto_msg_new(PROTO_SESSION_OK, 77);
    CHECK(proto_msg_type(msg) == PROTO_SESSION_OK && proto_msg_rid(msg) == 77);
    CHECK(proto_msg_set_str(msg, "logged_in", "x") == -1);  //  a bool
    CHECK(proto_msg_set_int(msg, "env", 1) == -1);          //  a string
    CHECK(proto_msg_set_bool(msg, "version", true) == -1);  //  an int
    CHECK(proto_msg_set_int(msg, NULL, 1) == -1);
    CHECK(proto_msg_set_str(msg, "env", NULL) == -1);
    CHECK(proto_msg_set_strn(msg, "env", "ab\0c", 4) == -1);  //  NUL inside
    CHECK(!proto_msg_has(msg, "env") && proto_msg_str(msg, "env") == NULL && proto_msg_strlen(msg, "env") == 0);
    CHECK(proto_msg_int(msg, "version", -9) == -9 && proto_msg_bool(msg, "logged_in", true));
    CHECK(proto_msg_set_str(msg, "env", "sandbox") == 0 && proto_msg_set_str(msg, "env", "production") == 0);
    CHECK(strcmp(proto_msg_str(msg, "env"), "production") == 0 && proto_msg_strlen(msg, "env") == 10);
    CHECK(proto_msg_set_strn(msg, "env", "sandboxXYZ", 7) == 0 && strcmp(proto_msg_str(msg, "env"), "sandbox") == 0);
    CHECK(proto_msg_set_int(msg, "version", INT64_MIN) == 0 && proto_msg_int(msg, "version", 0) == INT64_MIN);
    CHECK(proto_msg_set_bool(msg, "logged_in", false) == 0 && !proto_msg_bool(msg, "logged_in", true));
    CHECK(proto_msg_has(msg, "logged_in") && !proto_msg_has(msg, NULL));  //  unknown names: t_unknown_field
    //  Getters of the wrong type answer as if unset.
    CHECK(proto_msg_str(msg, "version") == NULL && proto_msg_int(msg, "env", 5) == 5);
    proto_msg_destroy(&msg);

    //  Every string field: max accepted, max + 1 refused, the old value kept.
    for (int t = 1; t < PROTO_TYPE_COUNT; t++) {
        const proto_msgdef_t *def = proto_schema((proto_type_t) t);
        msg = proto_msg_new((proto_type_t) t, 1);
        for (size_t i = 0; i < def->field_count; i++) {
            const proto_field_t *f = &def->fields[i];
            if (f->type != PROTO_F_STR) {
                CHECK(proto_msg_set_str(msg, f->name, "1") == -1);
                continue;
            }
            char *s = malloc(f->max + 2);
            memset(s, 'v', f->max + 1);
            s[f->max + 1] = 0;
            CHECK(proto_msg_set_strn(msg, f->name, s, f->max) == 0);
            CHECK(proto_msg_set_str(msg, f->name, s) == -1);
            CHECK(proto_msg_strlen(msg, f->name) == f->max);
            free(s);
        }
        proto_msg_destroy(&msg);
    }
}

static void t_encode_required(void)
{
    for (int t = 1; t < PROTO_TYPE_COUNT; t++) {
        const proto_msgdef_t *def = proto_schema((proto_type_t) t);
        for (size_t skip = 0; skip < def->field_count; skip++) {
            //  The MID message with every field but `skip`.
            proto_msg_t *full = s_fill((proto_type_t) t, 5, FILL_MID);
            proto_msg_t *msg = proto_msg_new((proto_type_t) t, 5);
            for (size_t i = 0; i < def->field_count; i++) {
                const proto_field_t *f = &def->fields[i];
                if (i == skip)
                    continue;
                if (f->type == PROTO_F_STR)
                    proto_msg_set_str(msg, f->name, proto_msg_str(full, f->name));
                else if (f->type == PROTO_F_INT)
                    proto_msg_set_int(msg, f->name, proto_msg_int(full, f->name, 0));
                else
                    proto_msg_set_bool(msg, f->name, true);
            }
            char *data = (char *) "junk";
            size_t size = 99;
            int rc = proto_encode(msg, &data, &size);
            if (def->fields[skip].required)
                CHECK(rc == -1 && data == NULL && size == 0);
            else
                CHECK(rc == 0 && data != NULL);
            if (rc == 0)
                free(data);
            proto_msg_destroy(&msg);
            proto_msg_destroy(&full);
        }
    }
    char *data = NULL;
    size_t size = 0;
    CHECK(proto_encode(NULL, &data, &size) == -1);
}

//  --------------------------------------------------------------------------
//  describe() and the ERROR helpers.

static void t_describe(void)
{
    char text[512];
    const char *sid = "S3cr3tSessionIdValue_abcdefghijklmnopqrstuvwxyz012";
    proto_msg_t *msg = proto_msg_new(PROTO_SESSION, 0xff);
    proto_msg_set_str(msg, "sid", sid);
    CHECK(proto_msg_describe(msg, text, sizeof text) == text);
    CHECK(strcmp(text, "type=SESSION rid=ff sid=<secret>") == 0);
    proto_msg_destroy(&msg);
    //  No secret of any type shows, at any length; plain fields do.
    for (int t = 1; t < PROTO_TYPE_COUNT; t++) {
        const proto_msgdef_t *def = proto_schema((proto_type_t) t);
        msg = proto_msg_new((proto_type_t) t, 1);
        for (size_t i = 0; i < def->field_count; i++)
            if (def->fields[i].type == PROTO_F_STR)
                proto_msg_set_str(msg, def->fields[i].name, def->fields[i].secret ? "S3cr3t" : "plainval");
        proto_msg_describe(msg, text, sizeof text);
        CHECK(!s_contains(text, "S3cr3t"));
        for (size_t i = 0; i < def->field_count; i++) {
            char want[64];
            snprintf(want, sizeof want, " %s=%s", def->fields[i].name,
                     def->fields[i].type != PROTO_F_STR ? ""
                         : def->fields[i].secret        ? "<secret>"
                                                        : "\"plainval\"");
            CHECK(s_contains(text, want) == (def->fields[i].type == PROTO_F_STR));
        }
        proto_msg_destroy(&msg);
    }
    //  Odd bytes escaped, long values cut, ints and bools shown.
    msg = proto_msg_new(PROTO_SESSION_OK, 0x7f3a);
    proto_msg_set_str(msg, "env", "a\x01\"\\\xff");
    proto_msg_set_bool(msg, "logged_in", true);
    proto_msg_set_int(msg, "version", -12);
    proto_msg_describe(msg, text, sizeof text);
    CHECK(strcmp(text, "type=SESSION_OK rid=7f3a logged_in=true env=\"a\\x01\\\"\\\\\\xff\" version=-12") == 0);
    char big[200];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = 0;
    proto_msg_set_str(msg, "owner_id", big);
    proto_msg_describe(msg, text, sizeof text);
    CHECK(s_contains(text, "...(199 bytes)") && !s_contains(text, big + 100));
    //  Small buffers are filled, terminated, never overrun.
    char tiny[12];
    memset(tiny, '#', sizeof tiny);
    proto_msg_describe(msg, tiny, 8);
    CHECK(strcmp(tiny, "type=SE") == 0 && tiny[8] == '#');
    CHECK(proto_msg_describe(msg, tiny, 1)[0] == 0);
    CHECK(strcmp(proto_msg_describe(msg, NULL, 0), "") == 0);
    CHECK(strcmp(proto_msg_describe(NULL, text, sizeof text), "type=INVALID") == 0);
    proto_msg_destroy(&msg);
}

static void t_errors(void)
{
    proto_msg_t *err = proto_error_new(9, PROTO_RATE_LIMITED, "slow down", 30);
    CHECK(proto_msg_type(err) == PROTO_ERROR && proto_msg_rid(err) == 9);
    CHECK(proto_error_code(err) == PROTO_RATE_LIMITED);
    CHECK(strcmp(proto_msg_str(err, "code"), "RATE_LIMITED") == 0);
    CHECK(strcmp(proto_msg_str(err, "message"), "slow down") == 0);
    CHECK(proto_msg_int(err, "retry_after", -1) == 30);
    size_t size;
    char *data = s_encode(err, &size);
    proto_msg_t *back = proto_decode(data, size, NULL, NULL);
    CHECK(proto_msg_equal(err, back) && proto_error_code(back) == PROTO_RATE_LIMITED);
    free(data);
    proto_msg_destroy(&back);
    proto_msg_destroy(&err);
    //  No retry_after, no message, no real code.
    err = proto_error_new(1, PROTO_OK, NULL, -1);
    CHECK(err && !proto_msg_has(err, "retry_after") && strcmp(proto_msg_str(err, "message"), "") == 0);
    CHECK(proto_error_code(err) == PROTO_INTERNAL);
    proto_msg_destroy(&err);
    err = proto_error_new(1, PROTO_CODE_COUNT, "x", 0);
    CHECK(proto_error_code(err) == PROTO_INTERNAL && proto_msg_int(err, "retry_after", -1) == 0);
    //  A code this version does not know reads as INTERNAL.
    proto_msg_set_str(err, "code", "NEW_CODE");
    CHECK(proto_error_code(err) == PROTO_INTERNAL);
    proto_msg_set_str(err, "code", "OK");
    CHECK(proto_error_code(err) == PROTO_INTERNAL);
    proto_msg_destroy(&err);
    //  An over-long message is cut to the field's max, on a UTF-8 boundary.
    char long_msg[1100];
    memset(long_msg, 'm', sizeof long_msg - 1);
    long_msg[sizeof long_msg - 1] = 0;
    memcpy(long_msg + 1022, "\xe2\x82\xac", 3);  //  a 3-byte character across byte 1024
    err = proto_error_new(2, PROTO_BAD_REQUEST, long_msg, -1);
    CHECK(err && proto_msg_strlen(err, "message") == 1022);
    proto_msg_destroy(&err);
    //  Not an ERROR.
    proto_msg_t *ping = proto_msg_new(PROTO_PING, 1);
    CHECK(proto_error_code(ping) == PROTO_OK && proto_error_code(NULL) == PROTO_OK);
    proto_msg_destroy(&ping);
}

//  --------------------------------------------------------------------------
//  A field name that the message's type does not have, from code: the process aborts, saying which.

//  Run fn on a new message of type in a child process, its stderr into out. Returns the child's wait status (-1 on error).
static int s_child(void (*fn)(proto_msg_t *), proto_type_t type, char *out, size_t size)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        proto_msg_t *msg = proto_msg_new(type, 1);
        fn(msg);
        _exit(0);  //  not reached when fn aborts
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t n;
    while (pid > 0 && len < size - 1 && (n = read(fds[0], out + len, size - 1 - len)) > 0)
        len += (size_t) n;
    out[len] = 0;
    close(fds[0]);
    int status = -1;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return status;
}

//  True when fn, run on a message of type, aborts (SIGABRT) with a line naming type and field.
static bool s_aborts_naming(void (*fn)(proto_msg_t *), proto_type_t type, const char *field)
{
    char out[512], want[128];
    int status = s_child(fn, type, out, sizeof out);
    snprintf(want, sizeof want, "message type %s has no field \"%s\"", proto_type_name(type), field);
    bool ok = status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT && strstr(out, want) != NULL;
    if (!ok)
        printf("#   child status %d, stderr: %s\n", status, out);
    return ok;
}

static void s_set_str_nope(proto_msg_t *m)
{
    proto_msg_set_str(m, "nope", "x");
}
static void s_set_strn_nope(proto_msg_t *m)
{
    proto_msg_set_strn(m, "nope", "x", 1);
}
static void s_set_int_nope(proto_msg_t *m)
{
    proto_msg_set_int(m, "nope", 1);
}
static void s_set_bool_nope(proto_msg_t *m)
{
    proto_msg_set_bool(m, "nope", true);
}
static void s_has_nope(proto_msg_t *m)
{
    proto_msg_has(m, "nope");
}
static void s_str_nope(proto_msg_t *m)
{
    proto_msg_str(m, "nope");
}
static void s_strlen_nope(proto_msg_t *m)
{
    proto_msg_strlen(m, "nope");
}
static void s_int_nope(proto_msg_t *m)
{
    proto_msg_int(m, "nope", 0);
}
static void s_bool_nope(proto_msg_t *m)
{
    proto_msg_bool(m, "nope", false);
}
//  A field of another type of message: READY_OK has no "message" (ERROR has).
static void s_str_message(proto_msg_t *m)
{
    proto_msg_str(m, "message");
}
//  The same field name and its type's own still work in the child: it exits 0, no abort.
static void s_known(proto_msg_t *m)
{
    proto_msg_set_str(m, "env", "sandbox");
    proto_msg_str(m, "env");
}

static void t_unknown_field(void)
{
    void (*const fns[])(proto_msg_t *) = { s_set_str_nope, s_set_strn_nope, s_set_int_nope, s_set_bool_nope, s_has_nope,
                                           s_str_nope,     s_strlen_nope,   s_int_nope,     s_bool_nope };
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
        CHECK(s_aborts_naming(fns[i], PROTO_SESSION_OK, "nope"));
    CHECK(s_aborts_naming(s_str_message, PROTO_READY_OK, "message"));
    char out[512];
    int status = s_child(s_known, PROTO_SESSION_OK, out, sizeof out);
    CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && out[0] == 0);

    //  The same unknown name in a frame is input: a validation error, not an abort.
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_int(&pk, PROTO_VERSION);
    msgpack_pack_str_with_body(&pk, "SESSION_OK", 10);
    msgpack_pack_uint64(&pk, 5);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "logged_in", 9);
    msgpack_pack_true(&pk);
    msgpack_pack_str_with_body(&pk, "nope", 4);
    msgpack_pack_true(&pk);
    const char *why = NULL;
    uint64_t rid = 0;
    CHECK(proto_decode(sb.data, sb.size, &why, &rid) == NULL);
    CHECK(why && strcmp(why, "unknown field") == 0 && rid == 5);
    msgpack_sbuffer_destroy(&sb);
}

static const test_case_t cases[] = {
    { "schema", t_schema },
    { "limits", t_limits },
    { "type_names", t_type_names },
    { "code_names", t_code_names },
    { "roundtrip_all", t_roundtrip_all },
    { "setters", t_setters },
    { "unknown_field", t_unknown_field },
    { "encode_required", t_encode_required },
    { "describe", t_describe },
    { "errors", t_errors },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
