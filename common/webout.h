//  webout: send a whole HTTP/1.1 response on a civetweb connection in one write.
//  civetweb's mg_response_header_* sends every header line with its own send();
//  under load that is most of a server's cost. This builds the status line, the
//  headers and (when it fits) the body in one buffer and writes it once.
#ifndef WEBOUT_H_INCLUDED
#define WEBOUT_H_INCLUDED

#include <civetweb.h>
#include <stddef.h>

//  Send the status line, Content-Length, Date, Connection (unless headers name one), Content-Type (unless NULL), then
//  headers (name, value, ..., NULL; may be NULL), then body. Header values must not hold CR or LF. Returns 0, or -1
//  when the head does not fit in 4 KiB or the write failed.
int webout_send(struct mg_connection *conn, int status, const char *content_type, const char *const *headers,
                const void *body, size_t len);
//  The bytes (headers and body) this thread's webout_send calls wrote since the last call; resets the count.
long long webout_take_sent(void);
//  True when civetweb keeps this connection open after the reply (the client's Connection header, else HTTP/1.1).
int webout_keep_alive(const struct mg_connection *conn);

#endif
