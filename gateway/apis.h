//  apis: the RingCentral APIs the test page offers (proto_api's table), and showing their JSON.
#ifndef APIS_H_INCLUDED
#define APIS_H_INCLUDED

#include "proto/proto_api.h"

#include <stddef.h>

//  One row of THE API table (proto/proto_api.c): name, label, upstream path, allowed parameters.
typedef proto_api_t apis_t;

//  Largest pretty-printed JSON shown in a page; bigger bodies are shown as they came.
#define APIS_PRETTY_MAX (8u << 20)
//  Deepest nesting re-indented; deeper bodies are shown as they came. jansson parses and dumps
//  recursively (about 300 bytes of stack a level): a worker's 100 KiB stack ends near 350 levels.
#define APIS_PRETTY_DEPTH 64

//  The API named name. Returns NULL for any other name (so it validates ?api=).
const apis_t *apis_find(const char *name);
//  The i-th API of the table. Returns NULL past the end.
const apis_t *apis_at(size_t i);
//  True when no array or object in body[0..len) nests deeper than max (strings skipped; not a validation).
//  Check it before any jansson parse of an upstream body: a deep body would overflow a worker's stack.
bool apis_depth_ok(const char *body, size_t len, int max);
//  The body re-indented by two spaces (a new malloc'd NUL-terminated string). Returns NULL
//  when the body is not JSON, nests deeper than APIS_PRETTY_DEPTH or the result would pass APIS_PRETTY_MAX.
char *apis_pretty_json(const char *body, size_t len);

#endif
