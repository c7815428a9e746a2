//  json_check: is an upstream body one JSON document (an object or an array)?
//
//  apisvc passes RingCentral's bodies through untouched; it only has to refuse
//  what is not JSON. yajl validates as a stream (strict: no comments, no
//  trailing data, strings must be UTF-8) without building a tree, several times
//  cheaper than parsing with jansson and throwing the tree away. jansson stays
//  where a document is read or built.
#ifndef JSON_CHECK_H_INCLUDED
#define JSON_CHECK_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

//  Whether body[0..len) is exactly one JSON object or array (surrounding whitespace allowed).
bool json_check_document(const char *body, size_t len);

#endif
