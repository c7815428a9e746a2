//  proto_scan: THE pre-scan of untrusted msgpack bytes, run before msgpack-c sees them (by proto_decode for
//  frames and by the store's codec for records read from disk).
//
//  msgpack-c's C unpacker trusts the length headers it reads: an array32 or map32 header of 5 bytes saying
//  2^32-1 elements makes it allocate that many objects (~100 GB; proto/fuzz finds this in seconds without the
//  scan) before it finds the buffer is short. This walk reads only the headers
//  (https://github.com/msgpack/msgpack/blob/master/spec.md#formats) and proves that the bytes hold exactly one
//  value, that every str/bin/ext payload and every container's elements (>= 1 byte each, all open containers
//  together) fit in what is left, and that depth, container sizes and the number of values stay under the
//  caller's limits. msgpack-c then allocates at most limits->values_max objects (strings stay in, or are copied
//  from, the input). Values are not checked here: the caller does that on msgpack-c's objects.
#ifndef PROTO_SCAN_H_INCLUDED
#define PROTO_SCAN_H_INCLUDED

#include <stddef.h>

//  The shape the caller accepts. Every limit is at least 1.
typedef struct {
    size_t depth_max;   //  nested containers, the outermost counting 1 (at most PROTO_SCAN_DEPTH_MAX)
    size_t items_max;   //  elements of one array, entries of one map
    size_t values_max;  //  values in the whole input, containers and map keys included
} proto_scan_limits_t;

//  Deepest nesting any caller may ask for (the walk keeps one counter per level on the stack).
#define PROTO_SCAN_DEPTH_MAX 16

//  Check that data[0..size) is exactly one msgpack value within limits. Returns NULL when it is, else the
//  reason (static text: "truncated frame", "nesting too deep", ...).
const char *proto_scan(const void *data, size_t size, const proto_scan_limits_t *limits);

#endif
