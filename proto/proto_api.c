//  proto_api: see proto_api.h.
#include "proto/proto_api.h"

#include <string.h>

#define CALL_LOG_PARAMS                                                                                       \
    (PROTO_P_DATE_FROM | PROTO_P_DATE_TO | PROTO_P_PAGE | PROTO_P_PER_PAGE | PROTO_P_VIEW | PROTO_P_DIRECTION \
     | PROTO_P_TYPE)

static const proto_api_t s_apis[] = {
    { "extension", "Extensions", "/restapi/v1.0/account/~/extension", PROTO_P_PAGE | PROTO_P_PER_PAGE, false },
    { "extension-call-log", "My call log", "/restapi/v1.0/account/~/extension/~/call-log", CALL_LOG_PARAMS, true },
    { "account-call-log", "Account call log", "/restapi/v1.0/account/~/call-log", CALL_LOG_PARAMS, true },
};
#define API_COUNT (sizeof s_apis / sizeof s_apis[0])

//  Indexed by bit number.
static const char *const s_params[PROTO_API_PARAM_COUNT] = {
    "dateFrom", "dateTo", "page", "perPage", "view", "direction", "type",
};

const proto_api_t *proto_api_find(const char *name)
{
    for (size_t i = 0; name && i < API_COUNT; i++)
        if (strcmp(s_apis[i].name, name) == 0)
            return &s_apis[i];
    return NULL;
}

const proto_api_t *proto_api_at(size_t i)
{
    return i < API_COUNT ? &s_apis[i] : NULL;
}

const char *proto_api_param_name(size_t i)
{
    return i < PROTO_API_PARAM_COUNT ? s_params[i] : NULL;
}

unsigned proto_api_param_bit(const char *key)
{
    for (size_t i = 0; key && i < PROTO_API_PARAM_COUNT; i++)
        if (strcmp(key, s_params[i]) == 0)
            return 1u << i;
    return 0;
}

//  n digits at s, their value in *v. Returns the characters read (n) or 0.
static size_t s_digits(const char *s, size_t n, int *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        *v = *v * 10 + (s[i] - '0');
    }
    return n;
}

bool proto_api_is_iso_date(const char *s)
{
    int y, mo, d, hh, mm, ss;
    if (!s || strlen(s) > 40)
        return false;
    if (!s_digits(s, 4, &y) || s[4] != '-' || !s_digits(s + 5, 2, &mo) || s[7] != '-' || !s_digits(s + 8, 2, &d))
        return false;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31)
        return false;
    s += 10;
    if (!*s)
        return true;
    if (*s != 'T' || !s_digits(s + 1, 2, &hh) || s[3] != ':' || !s_digits(s + 4, 2, &mm) || hh > 23 || mm > 59)
        return false;
    s += 6;
    if (*s == ':') {
        if (!s_digits(s + 1, 2, &ss) || ss > 59)
            return false;
        s += 3;
        if (*s == '.') {
            size_t n = 0;
            for (s++; *s >= '0' && *s <= '9'; s++)
                n++;
            if (n < 1 || n > 9)
                return false;
        }
    }
    if (*s == 'Z')
        return s[1] == '\0';
    if (*s == '+' || *s == '-')
        return s_digits(s + 1, 2, &hh) && s[3] == ':' && s_digits(s + 4, 2, &mm) && hh <= 23 && mm <= 59
            && s[6] == '\0';
    return *s == '\0';
}

//  True when value is a decimal number in lo..hi (no sign, no leading zero).
static bool s_number(const char *value, long lo, long hi)
{
    size_t n = strlen(value);
    if (n == 0 || n > 6 || value[0] == '0')
        return false;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (value[i] < '0' || value[i] > '9')
            return false;
        v = v * 10 + (value[i] - '0');
    }
    return v >= lo && v <= hi;
}

bool proto_api_param_ok(const proto_api_t *api, const char *key, const char *value)
{
    unsigned bit = proto_api_param_bit(key);
    if (!api || !bit || !(api->params & bit) || !value)
        return false;
    switch (bit) {
        case PROTO_P_DATE_FROM:
        case PROTO_P_DATE_TO: return proto_api_is_iso_date(value);
        case PROTO_P_PAGE: return s_number(value, 1, PROTO_API_PAGE_MAX);
        case PROTO_P_PER_PAGE: return s_number(value, 1, 1000);
        case PROTO_P_VIEW: return strcmp(value, "Simple") == 0 || strcmp(value, "Detailed") == 0;
        case PROTO_P_DIRECTION: return strcmp(value, "Inbound") == 0 || strcmp(value, "Outbound") == 0;
        case PROTO_P_TYPE: return strcmp(value, "Voice") == 0 || strcmp(value, "Fax") == 0;
        default: return false;
    }
}
