//  assets: the stylesheet, the script and the icon, compiled into the binary.
//
//  The Content-Security-Policy allows scripts and styles only from 'self', so
//  every page links /static/app.css and /static/app.js; pages pass their data to
//  the script in data-* attributes, never inline.
#ifndef ASSETS_H_INCLUDED
#define ASSETS_H_INCLUDED

#include <stddef.h>

typedef struct {
    const char *path;  //  "/static/app.js"
    const char *content_type;
    const char *body;
    size_t len;
    const char *etag;  //  quoted strong validator of body
} assets_file_t;

//  The asset served at path. Returns NULL when there is none.
const assets_file_t *assets_find(const char *path);

#endif
