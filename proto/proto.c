//  proto: the message object, the generic codec and the log formatter (see proto.h).
//
//  Nothing here knows a message by name: every function walks the schema rows
//  of proto_schema.c. A message holds one value slot per schema field, in the
//  order of the row.
#include "proto/proto.h"
#include "proto/proto_scan.h"

#include <inttypes.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    bool set;
    char *str;    //  PROTO_F_STR: malloc'd copy, NUL-terminated
    size_t len;   //  PROTO_F_STR: bytes before the NUL
    int64_t num;  //  PROTO_F_INT
    bool flag;    //  PROTO_F_BOOL
} s_value_t;

struct _proto_msg_t {
    const proto_msgdef_t *def;
    uint64_t rid;
    s_value_t values[];  //  def->field_count slots, in schema order
};

//  The pre-scan's limits (proto_scan.h): a valid message is an array of 4 holding a map of at most a
//  handful of fields: depth 2, under 20 values in all. msgpack-c then allocates at most 256 objects.
static const proto_scan_limits_t s_frame_limits = {
    .depth_max = 4,     //  nested containers, the top-level array counting 1
    .items_max = 64,    //  elements of one array, entries of one map
    .values_max = 256,  //  values in the whole frame, containers included
};

//  Bytes of a string shown by proto_msg_describe before it is cut.
#define S_DESCRIBE_CUT 64

//  The index of the field called name[0..len) in def, or -1.
static int s_field_index(const proto_msgdef_t *def, const char *name, size_t len)
{
    for (size_t i = 0; i < def->field_count; i++)
        if (strlen(def->fields[i].name) == len && memcmp(def->fields[i].name, name, len) == 0)
            return (int) i;
    return -1;
}

//  Code named a field that its message type does not have: a programmer error, never input (the decoder
//  reports an unknown field of a frame as a validation error, s_read_field). Say which, loudly, and abort:
//  a test that takes the path fails at once instead of a message quietly missing its field.
__attribute__((noreturn, cold)) static void s_no_such_field(const proto_msgdef_t *def, const char *name)
{
    fprintf(stderr, "proto: programmer error: message type %s has no field \"%s\"\n", def->name, name);
    abort();
}

//  The index of field name in self's type; aborts when the type has no such field (s_no_such_field).
static int s_field_known(const proto_msg_t *self, const char *name)
{
    int i = s_field_index(self->def, name, strlen(name));
    if (i < 0)
        s_no_such_field(self->def, name);
    return i;
}

//  The index of field name when self has it with type, or -1 (no message, no name, another type).
static int s_find(const proto_msg_t *self, const char *name, proto_ftype_t type)
{
    if (!self || !name)
        return -1;
    int i = s_field_known(self, name);
    return self->def->fields[i].type == type ? i : -1;
}

//  Copy value[0..len) into string slot i after checking the field's max and NUL. Returns 0 or -1.
static int s_set_str(proto_msg_t *self, int i, const char *value, size_t len)
{
    if (len > self->def->fields[i].max || (len && !value) || (len && memchr(value, 0, len)))
        return -1;
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    if (len)
        memcpy(copy, value, len);
    copy[len] = 0;
    s_value_t *v = &self->values[i];
    free(v->str);
    v->str = copy;
    v->len = len;
    v->set = true;
    return 0;
}

proto_msg_t *proto_msg_new(proto_type_t type, uint64_t request_id)
{
    const proto_msgdef_t *def = proto_schema(type);
    if (!def)
        return NULL;
    proto_msg_t *self = calloc(1, sizeof(*self) + def->field_count * sizeof(s_value_t));
    if (!self)
        return NULL;
    self->def = def;
    self->rid = request_id;
    return self;
}

void proto_msg_destroy(proto_msg_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    proto_msg_t *self = *self_p;
    for (size_t i = 0; i < self->def->field_count; i++)
        free(self->values[i].str);
    free(self);
    *self_p = NULL;
}

proto_type_t proto_msg_type(const proto_msg_t *self)
{
    return self ? self->def->type : PROTO_INVALID;
}

uint64_t proto_msg_rid(const proto_msg_t *self)
{
    return self ? self->rid : 0;
}

int proto_msg_set_str(proto_msg_t *self, const char *field, const char *value)
{
    if (!value)
        return -1;
    return proto_msg_set_strn(self, field, value, strlen(value));
}

int proto_msg_set_strn(proto_msg_t *self, const char *field, const char *value, size_t len)
{
    int i = s_find(self, field, PROTO_F_STR);
    if (i < 0 || !value)
        return -1;
    return s_set_str(self, i, value, len);
}

int proto_msg_set_int(proto_msg_t *self, const char *field, int64_t value)
{
    int i = s_find(self, field, PROTO_F_INT);
    if (i < 0)
        return -1;
    self->values[i].num = value;
    self->values[i].set = true;
    return 0;
}

int proto_msg_set_bool(proto_msg_t *self, const char *field, bool value)
{
    int i = s_find(self, field, PROTO_F_BOOL);
    if (i < 0)
        return -1;
    self->values[i].flag = value;
    self->values[i].set = true;
    return 0;
}

bool proto_msg_has(const proto_msg_t *self, const char *field)
{
    if (!self || !field)
        return false;
    return self->values[s_field_known(self, field)].set;
}

const char *proto_msg_str(const proto_msg_t *self, const char *field)
{
    int i = s_find(self, field, PROTO_F_STR);
    return i >= 0 && self->values[i].set ? self->values[i].str : NULL;
}

size_t proto_msg_strlen(const proto_msg_t *self, const char *field)
{
    int i = s_find(self, field, PROTO_F_STR);
    return i >= 0 && self->values[i].set ? self->values[i].len : 0;
}

int64_t proto_msg_int(const proto_msg_t *self, const char *field, int64_t dflt)
{
    int i = s_find(self, field, PROTO_F_INT);
    return i >= 0 && self->values[i].set ? self->values[i].num : dflt;
}

bool proto_msg_bool(const proto_msg_t *self, const char *field, bool dflt)
{
    int i = s_find(self, field, PROTO_F_BOOL);
    return i >= 0 && self->values[i].set ? self->values[i].flag : dflt;
}

//  --------------------------------------------------------------------------
//  Encoding: [version, type name, request id, {field: value, ...}], set fields only.

static int s_pack_str(msgpack_packer *pk, const char *s, size_t len)
{
    return msgpack_pack_str(pk, len) || msgpack_pack_str_body(pk, s, len);
}

static int s_pack_value(msgpack_packer *pk, const proto_field_t *field, const s_value_t *v)
{
    if (s_pack_str(pk, field->name, strlen(field->name)))
        return -1;
    switch (field->type) {
        case PROTO_F_STR: return s_pack_str(pk, v->str, v->len);
        case PROTO_F_INT: return msgpack_pack_int64(pk, v->num);
        case PROTO_F_BOOL: return v->flag ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    }
    return -1;
}

int proto_encode(const proto_msg_t *self, char **data_p, size_t *size_p)
{
    if (!self || !data_p || !size_p)
        return -1;
    *data_p = NULL;
    *size_p = 0;
    const proto_msgdef_t *def = self->def;
    size_t count = 0;
    for (size_t i = 0; i < def->field_count; i++) {
        if (self->values[i].set)
            count++;
        else if (def->fields[i].required)
            return -1;
    }
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    int rc = msgpack_pack_array(&pk, 4) || msgpack_pack_int(&pk, PROTO_VERSION)
        || s_pack_str(&pk, def->name, strlen(def->name)) || msgpack_pack_uint64(&pk, self->rid)
        || msgpack_pack_map(&pk, count);
    for (size_t i = 0; i < def->field_count && rc == 0; i++)
        if (self->values[i].set)
            rc = s_pack_value(&pk, &def->fields[i], &self->values[i]);
    //  Every row of the schema fits in PROTO_FRAME_MAX; the check keeps that promise if one grows.
    if (rc != 0 || sbuf.size > PROTO_FRAME_MAX) {
        msgpack_sbuffer_destroy(&sbuf);
        return -1;
    }
    *size_p = sbuf.size;
    *data_p = msgpack_sbuffer_release(&sbuf);
    return 0;
}

//  --------------------------------------------------------------------------
//  Decoding: pre-scan, msgpack-c, then every value checked against the schema.

//  Read one body entry into msg. Returns NULL or the reason.
static const char *s_read_field(proto_msg_t *msg, const msgpack_object_kv *kv)
{
    if (kv->key.type != MSGPACK_OBJECT_STR)
        return "field name is not a string";
    int i = s_field_index(msg->def, kv->key.via.str.ptr, kv->key.via.str.size);
    if (i < 0)
        return "unknown field";
    if (msg->values[i].set)
        return "duplicate field";
    const proto_field_t *field = &msg->def->fields[i];
    const msgpack_object *val = &kv->val;
    s_value_t *slot = &msg->values[i];
    switch (field->type) {
        case PROTO_F_STR:
            if (val->type != MSGPACK_OBJECT_STR)
                return "field value is not a string";
            if (val->via.str.size > field->max)
                return "string field too long";
            if (memchr(val->via.str.ptr, 0, val->via.str.size))
                return "NUL in string field";
            return s_set_str(msg, i, val->via.str.ptr, val->via.str.size) ? "out of memory" : NULL;
        case PROTO_F_INT:
            if (val->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
                if (val->via.u64 > INT64_MAX)
                    return "int field out of range";
                slot->num = (int64_t) val->via.u64;
            }
            else if (val->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
                slot->num = val->via.i64;
            else
                return "field value is not an int";
            break;
        case PROTO_F_BOOL:
            if (val->type != MSGPACK_OBJECT_BOOLEAN)
                return "field value is not a bool";
            slot->flag = val->via.boolean;
            break;
    }
    slot->set = true;
    return NULL;
}

//  Build the message from msgpack-c's tree. Returns NULL and sets *why_p on error.
static proto_msg_t *s_from_object(const msgpack_object *root, const char **why_p, uint64_t *rid_p)
{
    if (root->type != MSGPACK_OBJECT_ARRAY || root->via.array.size != 4) {
        *why_p = "frame is not an array [version, type, request_id, body]";
        return NULL;
    }
    const msgpack_object *item = root->via.array.ptr;
    //  The request id first, so that every later error can be answered.
    if (item[2].type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
        *why_p = "request_id is not an unsigned int";
        return NULL;
    }
    *rid_p = item[2].via.u64;
    if (item[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER || item[0].via.u64 != PROTO_VERSION) {
        *why_p = "unsupported version";
        return NULL;
    }
    if (item[1].type != MSGPACK_OBJECT_STR) {
        *why_p = "type is not a string";
        return NULL;
    }
    proto_type_t type = proto_type_parse(item[1].via.str.ptr, item[1].via.str.size);
    if (type == PROTO_INVALID) {
        *why_p = "unknown message type";
        return NULL;
    }
    if (item[3].type != MSGPACK_OBJECT_MAP) {
        *why_p = "body is not a map";
        return NULL;
    }
    proto_msg_t *msg = proto_msg_new(type, item[2].via.u64);
    if (!msg) {
        *why_p = "out of memory";
        return NULL;
    }
    const char *why = NULL;
    for (uint32_t k = 0; k < item[3].via.map.size && !why; k++)
        why = s_read_field(msg, &item[3].via.map.ptr[k]);
    for (size_t i = 0; i < msg->def->field_count && !why; i++)
        if (msg->def->fields[i].required && !msg->values[i].set)
            why = "missing required field";
    if (why) {
        proto_msg_destroy(&msg);
        *why_p = why;
    }
    return msg;
}

proto_msg_t *proto_decode(const void *data, size_t size, const char **why_p, uint64_t *rid_p)
{
    const char *why_unused;
    uint64_t rid_unused;
    why_p = why_p ? why_p : &why_unused;
    rid_p = rid_p ? rid_p : &rid_unused;
    *why_p = NULL;
    *rid_p = 0;
    if (!data || size == 0) {
        *why_p = "empty frame";
        return NULL;
    }
    if (size > PROTO_FRAME_MAX) {
        *why_p = "frame too large";
        return NULL;
    }
    const char *why = proto_scan(data, size, &s_frame_limits);
    if (why) {
        *why_p = why;
        return NULL;
    }
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    size_t off = 0;
    proto_msg_t *msg = NULL;
    msgpack_unpack_return ret = msgpack_unpack_next(&result, data, size, &off);
    if (ret == MSGPACK_UNPACK_NOMEM_ERROR)
        why = "out of memory";
    else if (ret != MSGPACK_UNPACK_SUCCESS)
        why = "malformed msgpack";
    else if (off != size)
        why = "trailing bytes after the message";
    else
        msg = s_from_object(&result.data, &why, rid_p);
    msgpack_unpacked_destroy(&result);
    *why_p = why;
    return msg;
}

//  --------------------------------------------------------------------------
//  ERROR helpers.

proto_msg_t *proto_error_new(uint64_t request_id, proto_code_t code, const char *message, int64_t retry_after)
{
    proto_msg_t *self = proto_msg_new(PROTO_ERROR, request_id);
    if (!self)
        return NULL;
    if (code == PROTO_OK || (int) code < 0 || (int) code >= PROTO_CODE_COUNT)
        code = PROTO_INTERNAL;
    const char *text = message ? message : "";
    size_t len = strlen(text);
    int i = s_find(self, "message", PROTO_F_STR);
    //  Cut an over-long message, on a UTF-8 character boundary.
    if (i >= 0 && len > self->def->fields[i].max) {
        len = self->def->fields[i].max;
        while (len > 0 && ((unsigned char) text[len] & 0xc0) == 0x80)
            len--;
    }
    if (proto_msg_set_str(self, "code", proto_code_name(code)) || proto_msg_set_strn(self, "message", text, len)
        || (retry_after >= 0 && proto_msg_set_int(self, "retry_after", retry_after)))
        proto_msg_destroy(&self);
    return self;
}

proto_code_t proto_error_code(const proto_msg_t *self)
{
    if (proto_msg_type(self) != PROTO_ERROR)
        return PROTO_OK;
    proto_code_t code = proto_code_parse(proto_msg_str(self, "code"));
    return code == PROTO_OK ? PROTO_INTERNAL : code;
}

//  --------------------------------------------------------------------------
//  proto_msg_describe: bounded text for logs.

typedef struct {
    char *buf;
    size_t size;  //  > 0
    size_t len;   //  < size; buf[len] == 0
} s_out_t;

static void s_put(s_out_t *out, const char *s, size_t n)
{
    size_t room = out->size - 1 - out->len;
    if (n > room)
        n = room;
    memcpy(out->buf + out->len, s, n);
    out->len += n;
    out->buf[out->len] = 0;
}

__attribute__((format(printf, 2, 3))) static void s_putf(s_out_t *out, const char *fmt, ...)
{
    char tmp[96];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        s_put(out, tmp, (size_t) n < sizeof tmp ? (size_t) n : sizeof tmp - 1);
}

//  Put s[0..len) in double quotes: printable ASCII as is, '"' and '\' escaped,
//  every other byte as \xNN; cut after S_DESCRIBE_CUT bytes with "...(N bytes)".
static void s_put_quoted(s_out_t *out, const char *s, size_t len)
{
    size_t shown = len > S_DESCRIBE_CUT ? S_DESCRIBE_CUT : len;
    s_put(out, "\"", 1);
    for (size_t i = 0; i < shown; i++) {
        unsigned char c = (unsigned char) s[i];
        if (c == '"' || c == '\\')
            s_putf(out, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            s_put(out, (const char *) &c, 1);
        else
            s_putf(out, "\\x%02x", c);
    }
    s_put(out, "\"", 1);
    if (shown < len)
        s_putf(out, "...(%zu bytes)", len);
}

const char *proto_msg_describe(const proto_msg_t *self, char *buf, size_t size)
{
    if (!buf || size == 0)
        return "";
    s_out_t out = { buf, size, 0 };
    buf[0] = 0;
    if (!self) {
        s_put(&out, "type=INVALID", 12);
        return buf;
    }
    s_putf(&out, "type=%s rid=%" PRIx64, self->def->name, self->rid);
    for (size_t i = 0; i < self->def->field_count; i++) {
        const proto_field_t *field = &self->def->fields[i];
        const s_value_t *v = &self->values[i];
        if (!v->set)
            continue;
        s_putf(&out, " %s=", field->name);
        if (field->secret)
            s_put(&out, "<secret>", 8);
        else if (field->type == PROTO_F_STR)
            s_put_quoted(&out, v->str, v->len);
        else if (field->type == PROTO_F_INT)
            s_putf(&out, "%" PRId64, v->num);
        else
            s_putf(&out, "%s", v->flag ? "true" : "false");
    }
    return buf;
}

bool proto_msg_equal(const proto_msg_t *a, const proto_msg_t *b)
{
    if (!a || !b || proto_msg_type(a) != proto_msg_type(b) || proto_msg_rid(a) != proto_msg_rid(b))
        return false;
    const proto_msgdef_t *def = proto_schema(proto_msg_type(a));
    for (size_t i = 0; i < def->field_count; i++) {
        const char *name = def->fields[i].name;
        if (proto_msg_has(a, name) != proto_msg_has(b, name))
            return false;
        if (def->fields[i].type == PROTO_F_STR && proto_msg_has(a, name)
            && (proto_msg_strlen(a, name) != proto_msg_strlen(b, name)
                || memcmp(proto_msg_str(a, name), proto_msg_str(b, name), proto_msg_strlen(a, name)) != 0))
            return false;
        if (proto_msg_int(a, name, 42) != proto_msg_int(b, name, 42)
            || proto_msg_bool(a, name, true) != proto_msg_bool(b, name, true))
            return false;
    }
    return true;
}
