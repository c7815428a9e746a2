//  calllog: see calllog.h.
#include "gateway/calllog.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

//  Most table rows written for one page (RingCentral's perPage is at most 1000).
#define CALLLOG_ROWS_MAX 1000

void calllog_duration(long long secs, char *out, size_t size)
{
    if (secs < 0) {
        snprintf(out, size, "%s", "");
        return;
    }
    snprintf(out, size, "%lld:%02lld:%02lld", secs / 3600, secs / 60 % 60, secs % 60);
}

int calllog_param_add(const apis_t *api, char *params, size_t size, const char *key, const char *value)
{
    if (!proto_api_param_ok(api, key, value))
        return -1;
    char v[64];
    bool date_only = strlen(value) == 10 && (strcmp(key, "dateFrom") == 0 || strcmp(key, "dateTo") == 0);
    snprintf(v, sizeof v, "%s%s", value,
             !date_only                         ? ""
                 : strcmp(key, "dateFrom") == 0 ? "T00:00:00.000Z"
                                                : "T23:59:59.999Z");
    size_t used = strlen(params);
    int n = snprintf(params + used, size - used, "%s%s=%s", used ? "&" : "", key, v);
    if (n < 0 || (size_t) n >= size - used) {
        params[used] = '\0';
        return -2;
    }
    return 0;
}

int calllog_param_get(const char *params, const char *key, char *out, size_t size)
{
    size_t klen = strlen(key);
    for (const char *p = params; p && *p;) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t) (end - p) : strlen(p);
        if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            size_t vlen = len - klen - 1;
            if (vlen >= size)
                return -1;
            memcpy(out, p + klen + 1, vlen);
            out[vlen] = '\0';
            return (int) vlen;
        }
        p = end ? end + 1 : NULL;
    }
    return -1;
}

static int s_hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
        : c >= 'a' && c <= 'f'  ? c - 'a' + 10
        : c >= 'A' && c <= 'F'  ? c - 'A' + 10
                                : -1;
}

//  Percent-decode src[0..len) into out ('+' is a space). Returns 0, or -1 when malformed or too long.
static int s_unescape(const char *src, size_t len, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = s_hex(src[i + 1]), lo = s_hex(src[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char) (hi * 16 + lo);
            i += 2;
        }
        else if (c == '+')
            c = ' ';
        if (c == '\0' || o + 1 >= size)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

//  Append value URL-encoded (RFC 3986 unreserved kept) to out at *used. Returns 0, or -1 when full.
static int s_escape_into(char *out, size_t size, size_t *used, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *) value; *p; p++) {
        bool keep = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'
            || *p == '.' || *p == '_' || *p == '~';
        if (*used + (keep ? 1 : 3) >= size)
            return -1;
        if (keep)
            out[(*used)++] = (char) *p;
        else {
            out[(*used)++] = '%';
            out[(*used)++] = hex[*p >> 4];
            out[(*used)++] = hex[*p & 15];
        }
    }
    out[*used] = '\0';
    return 0;
}

//  "/test?api=NAME" + each "&k=v" of params (v URL-encoded) into out. Returns 0 or -1 when it does not fit.
static int s_test_href(const apis_t *api, const char *params, char *out, size_t size)
{
    int n = snprintf(out, size, "/test?api=%s", api->name);
    if (n < 0 || (size_t) n >= size)
        return -1;
    size_t used = (size_t) n;
    char buf[PROTO_API_PARAMS_MAX + 1];
    snprintf(buf, sizeof buf, "%s", params ? params : "");
    char *save = NULL;
    for (char *pair = strtok_r(buf, "&", &save); pair; pair = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(pair, '=');
        if (!eq)
            continue;
        *eq = '\0';
        if (used + strlen(pair) + 3 >= size)
            return -1;
        used += (size_t) sprintf(out + used, "&%s=", pair);
        if (s_escape_into(out, size, &used, eq + 1) != 0)
            return -1;
    }
    return 0;
}

int calllog_nav_href(const apis_t *api, const char *uri, char *out, size_t size)
{
    //  RingCentral's navigation URIs are absolute; anything else is not one of them.
    if (!api || !uri || (strncmp(uri, "https://", 8) != 0 && strncmp(uri, "http://", 7) != 0))
        return -1;
    //  Only the query is used (the link is always this page's own): it runs from the first '?' to a '#'. No '?'
    //  can come before it in a URI's scheme, authority or path, so no URL parser is needed here.
    const char *query = strchr(uri, '?');
    char params[PROTO_API_PARAMS_MAX + 1] = "";
    unsigned seen = 0;
    for (const char *p = query ? query + 1 : NULL; p && *p && *p != '#';) {
        size_t len = strcspn(p, "&#");
        const char *eq = memchr(p, '=', len);
        char key[32], value[128];
        if (eq && s_unescape(p, (size_t) (eq - p), key, sizeof key) == 0
            && s_unescape(eq + 1, len - (size_t) (eq - p) - 1, value, sizeof value) == 0) {
            unsigned bit = proto_api_param_bit(key);
            //  Once each (a repeated key keeps its first value); anything else is dropped.
            if (bit && !(seen & bit) && calllog_param_add(api, params, sizeof params, key, value) == 0)
                seen |= bit;
        }
        p = p[len] == '&' ? p + len + 1 : NULL;
    }
    return s_test_href(api, params, out, size);
}

static const char *s_str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

//  "name (number)" of a party {name, phoneNumber, extensionNumber}; "-" when it says nothing.
static void s_party(html_t *h, const json_t *party)
{
    const char *name = s_str(party, "name"), *number = s_str(party, "phoneNumber");
    if (!*number)
        number = s_str(party, "extensionNumber");
    if (*name && *number)
        html_put(h, "<span class=\"party\">%t <span class=\"number\">%t</span></span>", name, number);
    else if (*name || *number)
        html_put(h, "<span class=\"party\">%t</span>", *name ? name : number);
    else
        html_put(h, "<span class=\"party\">\xe2\x80\x94</span>");
}

static void s_extensions(html_t *h, const json_t *records)
{
    size_t i;
    const json_t *rec;
    html_put(h, "<p class=\"count\" data-count=\"%d\">%d extension%t</p>\n<div class=\"extensions\">\n",
             (int) json_array_size(records), (int) json_array_size(records), json_array_size(records) == 1 ? "" : "s");
    json_array_foreach(records, i, rec)
    {
        if (i >= CALLLOG_ROWS_MAX)
            break;
        const json_t *contact = json_object_get(rec, "contact");
        const char *email = s_str(contact, "email");
        char id[32] = "";
        const json_t *jid = json_object_get(rec, "id");
        if (json_is_integer(jid))
            snprintf(id, sizeof id, "%lld", (long long) json_integer_value(jid));
        else
            snprintf(id, sizeof id, "%s", s_str(rec, "id"));
        html_put(h,
                 "<article class=\"ext card\" data-id=\"%a\">\n<h3>%t</h3>\n<dl class=\"facts\">\n"
                 "<dt>Extension</dt><dd class=\"ext-number\">%t</dd>\n<dt>Email</dt><dd class=\"ext-email\">%t</dd>\n"
                 "<dt>Status</dt><dd class=\"ext-status\">%t</dd>\n<dt>Type</dt><dd class=\"ext-type\">%t</dd>\n"
                 "</dl>\n</article>\n",
                 id, *s_str(rec, "name") ? s_str(rec, "name") : "(no name)", s_str(rec, "extensionNumber"),
                 *email ? email : "\xe2\x80\x94", s_str(rec, "status"), s_str(rec, "type"));
    }
    html_put(h, "</div>\n");
}

//  A <select> of name with "any" and values (NULL-terminated), the one in params selected.
static void s_select(html_t *h, const char *params, const char *label, const char *name, const char *const *values)
{
    char current[16] = "";
    calllog_param_get(params, name, current, sizeof current);
    html_put(h, "<label>%t <select name=\"%a\"><option value=\"\">any</option>", label, name);
    for (size_t i = 0; values[i]; i++)
        html_put(h, "<option%r>%t</option>", strcmp(current, values[i]) == 0 ? " selected" : "", values[i]);
    html_put(h, "</select></label>\n");
}

//  The form: date range (RingCentral's default stated), perPage, view=Detailed, direction, type.
static void s_form(html_t *h, const apis_t *api, const char *params)
{
    char from[64] = "", to[64] = "", per[16] = "", view[16] = "";
    calllog_param_get(params, "dateFrom", from, sizeof from);
    calllog_param_get(params, "dateTo", to, sizeof to);
    calllog_param_get(params, "perPage", per, sizeof per);
    calllog_param_get(params, "view", view, sizeof view);
    from[10] = to[10] = '\0';  //  the date part for <input type=date>
    html_put(h,
             "<form class=\"calllog-form\" method=\"get\" action=\"/test\">\n"
             "<input type=\"hidden\" name=\"api\" value=\"%a\">\n"
             "<label>From <input type=\"date\" name=\"dateFrom\" value=\"%a\"></label>\n"
             "<label>To <input type=\"date\" name=\"dateTo\" value=\"%a\"></label>\n"
             "<label>Per page <input type=\"number\" name=\"perPage\" min=\"1\" max=\"1000\" value=\"%a\" "
             "placeholder=\"100\"></label>\n"
             "<label><input type=\"checkbox\" name=\"view\" value=\"Detailed\"%r> Detailed view</label>\n",
             api->name, from, to, per, strcmp(view, "Detailed") == 0 ? " checked" : "");
    s_select(h, params, "Direction", "direction", (const char *const[]){ "Inbound", "Outbound", NULL });
    s_select(h, params, "Type", "type", (const char *const[]){ "Voice", "Fax", NULL });
    html_put(h,
             "<button type=\"submit\">Show</button>\n</form>\n"
             "<p class=\"detail range\">Dates are days in UTC (From at 00:00, To at 23:59). Without a From date "
             "RingCentral returns the last 24 hours only (its default); without a To date, up to now.</p>\n");
}

//  "2024-03-01T09:13:07.000Z" -> "2024-03-01 09:13:07 UTC" (else the value as it came).
static void s_start(html_t *h, const char *start)
{
    char shown[40];
    if (strlen(start) >= 19 && proto_api_is_iso_date(start) && start[10] == 'T' && start[16] == ':')
        snprintf(shown, sizeof shown, "%.10s %.8s UTC", start, start + 11);
    else
        snprintf(shown, sizeof shown, "%.39s", start);
    html_put(h, "<td><time datetime=\"%a\" data-local>%t</time></td>", start, shown);
}

static void s_nav(html_t *h, const apis_t *api, const json_t *nav, const json_t *paging)
{
    char prev[1024], next[1024];
    const char *puri = s_str(json_object_get(nav, "previousPage"), "uri");
    const char *nuri = s_str(json_object_get(nav, "nextPage"), "uri");
    bool has_prev = *puri && calllog_nav_href(api, puri, prev, sizeof prev) == 0;
    bool has_next = *nuri && calllog_nav_href(api, nuri, next, sizeof next) == 0;
    if (!has_prev && !has_next)
        return;
    html_put(h, "<nav class=\"paging\" aria-label=\"Pages\">");
    if (has_prev)
        html_put(h, "<a class=\"button secondary\" rel=\"prev\" href=\"%a\">\xe2\x86\x90 Previous page</a>", prev);
    json_t *page = json_object_get(paging, "page");
    if (json_is_integer(page))
        html_put(h, "<span class=\"page\">Page %d</span>", (int) json_integer_value(page));
    if (has_next)
        html_put(h, "<a class=\"button secondary\" rel=\"next\" href=\"%a\">Next page \xe2\x86\x92</a>", next);
    html_put(h, "</nav>\n");
}

static void s_calls(html_t *h, const apis_t *api, const char *params, const json_t *root)
{
    const json_t *records = json_object_get(root, "records"), *paging = json_object_get(root, "paging");
    int n = (int) json_array_size(records);
    s_form(h, api, params);
    const json_t *total = json_object_get(paging, "totalElements");
    html_put(h, "<p class=\"count\" data-count=\"%d\">%d record%t on this page", n, n, n == 1 ? "" : "s");
    if (json_is_integer(total))
        html_put(h, " (%d in all)", (int) json_integer_value(total));
    html_put(h, ".</p>\n");
    if (n == 0) {
        html_put(h,
                 "<p class=\"notice warn empty\" role=\"status\">No calls%t. RingCentral's call log covers only "
                 "the last 24 hours unless a From date is given: choose an earlier From date above.</p>\n",
                 strstr(params ? params : "", "dateFrom=") ? " in this range" : " in the last 24 hours");
        s_nav(h, api, json_object_get(root, "navigation"), paging);
        return;
    }
    html_put(h,
             "<div class=\"table-wrap\"><table class=\"calls\">\n<thead><tr><th scope=\"col\">Start "
             "<span class=\"tz\" data-tz>(UTC)</span></th><th scope=\"col\">Direction</th>"
             "<th scope=\"col\">From \xe2\x86\x92 To</th><th scope=\"col\">Duration</th><th scope=\"col\">Result</th>"
             "<th scope=\"col\">Type</th></tr></thead>\n<tbody>\n");
    size_t i;
    const json_t *rec;
    json_array_foreach(records, i, rec)
    {
        if (i >= CALLLOG_ROWS_MAX)
            break;
        html_put(h, "<tr data-id=\"%a\">", s_str(rec, "id"));
        s_start(h, s_str(rec, "startTime"));
        html_put(h, "<td class=\"dir\">%t</td><td>", s_str(rec, "direction"));
        s_party(h, json_object_get(rec, "from"));
        html_put(h, " \xe2\x86\x92 ");
        s_party(h, json_object_get(rec, "to"));
        char dur[24] = "";
        const json_t *d = json_object_get(rec, "duration");
        if (json_is_integer(d))
            calllog_duration((long long) json_integer_value(d), dur, sizeof dur);
        html_put(h, "</td><td class=\"duration\">%t</td><td class=\"result\">%t</td><td>%t", dur, s_str(rec, "result"),
                 s_str(rec, "type"));
        const json_t *legs = json_object_get(rec, "legs");
        if (json_is_array(legs))
            html_put(h, " <span class=\"legs\">(%d legs)</span>", (int) json_array_size(legs));
        html_put(h, "</td></tr>\n");
    }
    html_put(h, "</tbody>\n</table></div>\n");
    s_nav(h, api, json_object_get(root, "navigation"), paging);
}

int calllog_render(html_t *h, const apis_t *api, const char *params, const char *body, size_t len)
{
    if (!api || !body || !len || !apis_depth_ok(body, len, APIS_PRETTY_DEPTH))
        return -1;
    json_t *root = json_loadb(body, len, 0, NULL);
    const json_t *records = json_object_get(root, "records");
    if (!json_is_array(records)) {
        json_decref(root);
        return -1;
    }
    if (api->call_log)
        s_calls(h, api, params, root);
    else
        s_extensions(h, records);
    json_decref(root);
    return 0;
}
