//  web: small HTTP helpers over civetweb for the mock's handlers.
//
//  Replies always carry Content-Length (keep-alive stays usable) and
//  Cache-Control: no-store. Request bodies are read into a caller's bounded
//  buffer; form fields are parsed from it with civetweb's mg_get_var.
#ifndef MOCKRC_WEB_H_INCLUDED
#define MOCKRC_WEB_H_INCLUDED

#include <civetweb.h>
#include <jansson.h>
#include <stddef.h>

//  Send a complete reply. headers: NULL, or a NULL-terminated list of name, value pairs.
//  Returns status (for civetweb's log), or 500 when the reply could not be written.
int web_send(struct mg_connection *c, int status, const char *content_type, const char *body, size_t len,
             const char *const *headers);
//  Send body (a reference the function steals) as compact JSON. Returns the status sent.
int web_json(struct mg_connection *c, int status, json_t *body, const char *const *headers);
//  Send an HTML page. Returns status.
int web_html(struct mg_connection *c, int status, const char *html);
//  Send 302 Found to location. Returns 302.
int web_redirect(struct mg_connection *c, const char *location);
//  Close the connection at once without a reply (shutdown of its socket). Returns 0, or -1 when not found.
int web_drop(struct mg_connection *c);
//  End reading on every connection accepted on port (replies being written still go out), so
//  workers idle on keep-alive connections notice a shutdown at once. Returns how many.
int web_end_reads(int port);

//  Read the request body (at most cap - 1 bytes) into buf, NUL-terminated, its length in *len.
//  Returns 0, or -1 when the body is larger than that or cannot be read.
int web_read_body(struct mg_connection *c, char *buf, size_t cap, size_t *len);
//  Decode the form (or query string) field name of data into dst. Returns its length, -1 when
//  absent, -2 when too long for dst or given more than once.
int web_form_get(const char *data, size_t len, const char *name, char *dst, size_t dst_size);
//  True when the request's Content-Type is application/x-www-form-urlencoded.
int web_is_form(const struct mg_connection *c);
//  Decode "Authorization: Basic base64(id:secret)". Returns 0, or -1 when absent or malformed.
int web_basic_auth(const struct mg_connection *c, char *id, size_t id_size, char *secret, size_t secret_size);
//  Copy the token of "Authorization: Bearer <token>" into out. Returns 0, or -1 when absent or too long.
int web_bearer(const struct mg_connection *c, char *out, size_t out_size);

//  Escape text for HTML into out. Returns 0, or -1 when out is too small (out then holds "").
int web_html_escape(const char *text, char *out, size_t out_size);
//  Build base + "?" (or "&" when base has a query) + name=value&... into out: values URL-encoded,
//  pairs with a NULL value skipped. Returns 0, or -1 when out is too small.
int web_url_build(char *out, size_t out_size, const char *base, const char *const (*params)[2], size_t count);

#endif
