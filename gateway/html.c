//  html: see html.h.
#include "gateway/html.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTML_INITIAL (8u << 10)

struct _html_t {
    char *data;
    size_t len, cap, max;
    bool failed;
};

html_t *html_new(size_t max)
{
    html_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->cap = max < HTML_INITIAL ? max + 1 : HTML_INITIAL;
    self->data = malloc(self->cap);
    if (!self->data) {
        free(self);
        return NULL;
    }
    self->data[0] = '\0';
    self->max = max;
    return self;
}

void html_destroy(html_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->data);
    free(*self_p);
    *self_p = NULL;
}

//  Make room for n more bytes plus the NUL. Returns false (and marks failed) when it cannot.
static bool s_reserve(html_t *self, size_t n)
{
    if (self->failed)
        return false;
    if (n > self->max - self->len) {
        self->failed = true;
        return false;
    }
    size_t need = self->len + n + 1;
    if (need <= self->cap)
        return true;
    size_t cap = self->cap;
    while (cap < need)
        cap = cap > (self->max + 1) / 2 ? self->max + 1 : cap * 2;
    char *data = realloc(self->data, cap);
    if (!data) {
        self->failed = true;
        return false;
    }
    self->data = data;
    self->cap = cap;
    return true;
}

void html_raw(html_t *self, const char *data, size_t len)
{
    if (!len || !s_reserve(self, len))
        return;
    memcpy(self->data + self->len, data, len);
    self->len += len;
    self->data[self->len] = '\0';
}

//  The entity of c when escaping for the given context, or NULL to copy c as is.
static const char *s_entity(char c, bool attr)
{
    switch (c) {
        case '&': return "&amp;";
        case '<': return "&lt;";
        case '>': return "&gt;";
        case '"': return attr ? "&quot;" : NULL;
        case '\'': return attr ? "&#39;" : NULL;
        default: return NULL;
    }
}

static void s_escape(html_t *self, const char *data, size_t len, bool attr)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        const char *entity = s_entity(data[i], attr);
        if (!entity)
            continue;
        html_raw(self, data + start, i - start);
        html_raw(self, entity, strlen(entity));
        start = i + 1;
    }
    html_raw(self, data + start, len - start);
}

void html_text(html_t *self, const char *data, size_t len)
{
    s_escape(self, data, len, false);
}

void html_attr(html_t *self, const char *data, size_t len)
{
    s_escape(self, data, len, true);
}

void html_put(html_t *self, const char *tpl, ...)
{
    va_list ap;
    va_start(ap, tpl);
    const char *p = tpl;
    while (*p) {
        const char *pct = strchr(p, '%');
        if (!pct) {
            html_raw(self, p, strlen(p));
            break;
        }
        html_raw(self, p, (size_t) (pct - p));
        char conv = pct[1];
        if (conv == 't' || conv == 'a' || conv == 'r') {
            const char *s = va_arg(ap, const char *);
            s = s ? s : "";
            if (conv == 't')
                html_text(self, s, strlen(s));
            else if (conv == 'a')
                html_attr(self, s, strlen(s));
            else
                html_raw(self, s, strlen(s));
        }
        else if (conv == 'd') {
            char num[16];
            int n = snprintf(num, sizeof num, "%d", va_arg(ap, int));
            html_raw(self, num, (size_t) n);
        }
        else if (conv == '%')
            html_raw(self, "%", 1);
        else
            self->failed = true;  //  a bad template is a programming error: show no half page
        if (!conv)
            break;
        p = pct + 2;
    }
    va_end(ap);
}

bool html_ok(const html_t *self)
{
    return !self->failed;
}

const char *html_data(const html_t *self)
{
    return self->data;
}

size_t html_len(const html_t *self)
{
    return self->len;
}

void html_reset(html_t *self)
{
    self->len = 0;
    self->data[0] = '\0';
    self->failed = false;
}
