//  html: a bounded page buffer that escapes every value for its HTML context.
//
//  Pages are written with html_put, a tiny template where each conversion says
//  how its (const char *) argument is placed:
//      %t  text of an element, escaped (& < >)
//      %a  the value of a double-quoted attribute, escaped (& < > " ')
//      %r  raw, trusted markup (literals and other pages' output only)
//      %d  an int
//      %%  a percent sign
//  Nothing from the network is ever passed as %r. The buffer has a ceiling:
//  past it (or out of memory) the page is marked failed and stops growing.
#ifndef HTML_H_INCLUDED
#define HTML_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct _html_t html_t;

//  A new empty buffer that never grows past max bytes. Returns NULL out of memory.
html_t *html_new(size_t max);
//  Free the buffer and set *self_p to NULL. Safe with *self_p == NULL.
void html_destroy(html_t **self_p);
//  Append the template tpl with its arguments (see above). Marks the buffer failed on overflow.
void html_put(html_t *self, const char *tpl, ...);
//  Append len raw bytes (trusted markup). Marks the buffer failed on overflow.
void html_raw(html_t *self, const char *data, size_t len);
//  Append len bytes escaped as element text (& < >). Marks the buffer failed on overflow.
void html_text(html_t *self, const char *data, size_t len);
//  Append len bytes escaped for a double-quoted attribute value (& < > " '). Marks the buffer failed on overflow.
void html_attr(html_t *self, const char *data, size_t len);
//  False once the buffer overflowed its ceiling or ran out of memory.
bool html_ok(const html_t *self);
//  The bytes written so far (NUL-terminated). Never NULL.
const char *html_data(const html_t *self);
//  The number of bytes written so far.
size_t html_len(const html_t *self);
//  Empty the buffer and clear its failed mark, keeping its memory.
void html_reset(html_t *self);

#endif
