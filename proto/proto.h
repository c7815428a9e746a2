//  proto: the messages between the gateway and the services, and their codec.
//
//  Every message is one msgpack value [version, type, request_id, body]:
//  version a positive int (PROTO_VERSION), type the message name as a string
//  ("AUTH_URL"), request_id an unsigned int, body a map of field name -> value.
//  The types and their fields live in ONE table, proto_schema.c; the codec,
//  the log formatter and the tests all walk it.
//
//  Decoding is for untrusted bytes: the frame, every string, every container and
//  the nesting depth are bounded and checked BEFORE msgpack-c allocates
//  anything; wrong types, missing required fields, unknown fields, unknown
//  types and versions all give NULL and a reason, never a crash.
//
//  Code that sets or reads a field by name must name a field of that message's type: any other name is a
//  programmer error, and the proto_msg_set_* and proto_msg_<get> functions abort with a line on stderr
//  naming the type and the field. (A field of the right name but another type gives -1 or the default.)
#ifndef PROTO_H_INCLUDED
#define PROTO_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION 1
//  Largest frame accepted or produced: an API body (PROTO_BODY_MAX) plus headroom.
#define PROTO_FRAME_MAX (PROTO_BODY_MAX + (64u << 10))
//  Largest API response body carried in API_OK.
#define PROTO_BODY_MAX (4u << 20)
//  Ceiling of any other string field (each field's own limit in the schema is lower or equal).
#define PROTO_FIELD_MAX (64u << 10)

//  The limits of the fields that other modules hold or check too (bytes, without a NUL; a buffer for one is
//  PROTO_*_MAX + 1). The schema states its rows with these names: each limit is written here once.
#define PROTO_SID_MAX 128               //  sid, new_sid (and the store's keys: session ids and states)
#define PROTO_ENV_MAX 16                //  env: "production" or "sandbox"
#define PROTO_OWNER_MAX 256             //  owner_id: RingCentral's account owner id
#define PROTO_AUTH_URL_MAX 8192         //  AUTH_URL_OK url: the authorize URL
#define PROTO_AUTH_CODE_MAX 2048        //  EXCHANGE code: RingCentral's authorization code
#define PROTO_STATE_MAX 256             //  EXCHANGE and DECLINED state
#define PROTO_API_NAME_MAX 32           //  API api (PROTO_API_PARAMS_MAX, of API params, is in proto_api.h)
#define PROTO_UPSTREAM_CODE_MAX 64      //  ERROR upstream_code: RingCentral's errorCode or OAuth error
#define PROTO_UPSTREAM_MESSAGE_MAX 512  //  ERROR upstream_message: its message or error_description

typedef enum {
    PROTO_INVALID = 0,
    PROTO_AUTH_URL,
    PROTO_AUTH_URL_OK,
    PROTO_EXCHANGE,
    PROTO_EXCHANGE_OK,
    PROTO_SESSION,
    PROTO_SESSION_OK,
    PROTO_REFRESH,
    PROTO_REFRESH_OK,
    PROTO_LOGOUT,
    PROTO_LOGOUT_OK,
    PROTO_API,
    PROTO_API_OK,
    PROTO_PING,
    PROTO_PING_OK,
    PROTO_HOLD,
    PROTO_HOLD_OK,
    PROTO_DECLINED,
    PROTO_DECLINED_OK,
    PROTO_READY,
    PROTO_READY_OK,
    PROTO_STATS,
    PROTO_STATS_OK,
    PROTO_ERROR,
    PROTO_TYPE_COUNT
} proto_type_t;

//  Error codes carried by ERROR {code, message, retry_after?, env?, upstream_status?, upstream_code?,
//  upstream_message?}. The upstream_* fields are RingCentral's own words about a failed answer (its HTTP
//  status, errorCode or OAuth error, message or error_description): never tokens, shown on the page.
typedef enum {
    PROTO_OK = 0,
    PROTO_BAD_REQUEST,
    PROTO_NOT_LOGGED_IN,
    PROTO_STATE_MISMATCH,
    PROTO_UPSTREAM_REJECTED,  //  RingCentral refused the login (a grant it will not take: log in again)
    PROTO_UPSTREAM_ERROR,
    PROTO_UPSTREAM_TIMEOUT,
    PROTO_RATE_LIMITED,
    PROTO_UNAVAILABLE,
    PROTO_STORE_FULL,  //  the token store has no room for this write (a 503: try again later)
    PROTO_INTERNAL,
    PROTO_UPSTREAM_DENIED,       //  RingCentral refused an API call (403 permission, 404, other 4xx); still logged in
    PROTO_UPSTREAM_UNREACHABLE,  //  RingCentral could not be reached (DNS, connect, TLS, reset): no answer at all
    PROTO_APP_REJECTED,          //  the token endpoint refused this app (invalid_client, unauthorized_client)
    PROTO_CODE_COUNT
} proto_code_t;

typedef enum { PROTO_F_STR, PROTO_F_INT, PROTO_F_BOOL } proto_ftype_t;

//  One field of a message type, as written in proto_schema.c.
typedef struct {
    const char *name;
    proto_ftype_t type;
    bool required;
    size_t max;   //  strings: most bytes allowed (no NUL inside); ints: unused
    bool secret;  //  never printed by proto_msg_describe
} proto_field_t;

//  One message type, as written in proto_schema.c.
typedef struct {
    proto_type_t type;
    const char *name;
    const proto_field_t *fields;
    size_t field_count;
    proto_type_t reply;  //  a request's reply type (AUTH_URL -> AUTH_URL_OK); PROTO_INVALID for a reply
} proto_msgdef_t;

typedef struct _proto_msg_t proto_msg_t;

//  The schema entry of type. Returns NULL for PROTO_INVALID or an out-of-range type.
const proto_msgdef_t *proto_schema(proto_type_t type);
//  The schema row of the field called name in type: for code that handles several types. Returns NULL when the
//  type has no such field (asking is not an error: naming one to a getter or setter is).
const proto_field_t *proto_schema_field(proto_type_t type, const char *name);
//  The wire name of type ("AUTH_URL"). Returns "INVALID" for an unknown type.
const char *proto_type_name(proto_type_t type);
//  The type whose wire name is name. Returns PROTO_INVALID when there is none.
proto_type_t proto_type_parse(const char *name, size_t len);
//  The reply type of a request type (AUTH_URL -> AUTH_URL_OK). Returns PROTO_INVALID for a reply.
proto_type_t proto_reply_type(proto_type_t request);
//  The wire name of code ("BAD_REQUEST"; "OK" for PROTO_OK). Returns "INTERNAL" for an unknown code.
const char *proto_code_name(proto_code_t code);
//  The code whose wire name is name. Returns PROTO_OK (0) when there is none.
proto_code_t proto_code_parse(const char *name);

//  A new empty message of type. Returns NULL for an unknown type or out of memory.
proto_msg_t *proto_msg_new(proto_type_t type, uint64_t request_id);
//  Free the message and set *self_p to NULL. Safe with *self_p == NULL.
void proto_msg_destroy(proto_msg_t **self_p);
//  The message's type.
proto_type_t proto_msg_type(const proto_msg_t *self);
//  The message's request id.
uint64_t proto_msg_rid(const proto_msg_t *self);
//  The field functions from here to proto_msg_bool take a field name of the message's type: any other name aborts
//  (see the top); a field of another type is -1 (setters) or unset (getters).
//  Copy value into a string field. Returns 0, or -1 when the field is not a string of this type or value is too long.
int proto_msg_set_str(proto_msg_t *self, const char *field, const char *value);
//  Copy len bytes into a string field (no NUL allowed inside). Returns 0 or -1 as proto_msg_set_str.
int proto_msg_set_strn(proto_msg_t *self, const char *field, const char *value, size_t len);
//  Set an int field. Returns 0, or -1 when the field is not an int of this type.
int proto_msg_set_int(proto_msg_t *self, const char *field, int64_t value);
//  Set a bool field. Returns 0, or -1 when the field is not a bool of this type.
int proto_msg_set_bool(proto_msg_t *self, const char *field, bool value);
//  True when the field is set.
bool proto_msg_has(const proto_msg_t *self, const char *field);
//  The NUL-terminated value of a string field, owned by the message. Returns NULL when unset.
const char *proto_msg_str(const proto_msg_t *self, const char *field);
//  The length of a string field. Returns 0 when unset.
size_t proto_msg_strlen(const proto_msg_t *self, const char *field);
//  The value of an int field. Returns dflt when unset.
int64_t proto_msg_int(const proto_msg_t *self, const char *field, int64_t dflt);
//  The value of a bool field. Returns dflt when unset.
bool proto_msg_bool(const proto_msg_t *self, const char *field, bool dflt);

//  True when a and b have the same type, request id and field values (false when either is NULL).
bool proto_msg_equal(const proto_msg_t *a, const proto_msg_t *b);

//  Encode into a new malloc'd buffer (*data_p, freed by the caller). Returns 0, or -1 when a required field is unset.
int proto_encode(const proto_msg_t *self, char **data_p, size_t *size_p);
//  Decode untrusted bytes. Returns NULL and sets *why_p (static text) on any error; *rid_p gets the request id when it could be read (else 0).
proto_msg_t *proto_decode(const void *data, size_t size, const char **why_p, uint64_t *rid_p);

//  A new ERROR reply. retry_after < 0 leaves it unset. Returns NULL out of memory.
proto_msg_t *proto_error_new(uint64_t request_id, proto_code_t code, const char *message, int64_t retry_after);
//  The code of an ERROR message. Returns PROTO_INTERNAL for an unknown code, PROTO_OK for a non-ERROR message.
proto_code_t proto_error_code(const proto_msg_t *self);
//  Write "type=X rid=hex field=value ..." into buf with secret fields shown as "<secret>" and long values cut. Returns buf.
const char *proto_msg_describe(const proto_msg_t *self, char *buf, size_t size);

#endif
