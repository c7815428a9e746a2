//  proto_scan: see proto_scan.h.
#include "proto/proto_scan.h"

#include <stdint.h>

//  The big-endian unsigned integer of n (1, 2 or 4) bytes at p.
static uint32_t s_be(const uint8_t *p, size_t n)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

const char *proto_scan(const void *input, size_t size, const proto_scan_limits_t *limits)
{
    if (!limits || limits->depth_max < 1 || limits->depth_max > PROTO_SCAN_DEPTH_MAX || limits->items_max < 1
        || limits->values_max < 1)
        return "invalid scan limits";
    if (!input)
        return "truncated frame";
    const uint8_t *data = input;
    size_t left[PROTO_SCAN_DEPTH_MAX + 1];  //  elements still to read in each open container
    size_t depth = 0;                       //  left[0] counts the one top-level value
    left[0] = 1;
    size_t open = 1;  //  the sum of left[0..depth]: values still to read in all
    size_t pos = 0, values = 0;
    for (;;) {
        while (depth > 0 && left[depth] == 0)
            depth--;  //  container done: back to its parent
        if (left[depth] == 0)
            break;  //  the top-level value is complete
        left[depth]--;
        open--;
        if (pos >= size)
            return "truncated frame";
        if (++values > limits->values_max)
            return "too many values in frame";
        uint8_t b = data[pos++];
        size_t lenbytes = 0;  //  size of the length/count field after the tag
        size_t extra = 0;     //  payload bytes besides the counted ones (ext type, fixed sizes)
        enum { SCALAR, BYTES, ARRAY, MAP } kind = SCALAR;
        uint64_t n = 0;  //  payload length or element count
        if (b <= 0x7f || b >= 0xe0) {
            //  positive / negative fixint: the tag is the value
        }
        else if (b <= 0x8f)
            kind = MAP, n = b & 0x0f;  //  fixmap
        else if (b <= 0x9f)
            kind = ARRAY, n = b & 0x0f;  //  fixarray
        else if (b <= 0xbf)
            kind = BYTES, n = b & 0x1f;  //  fixstr
        else
            switch (b) {
                case 0xc0:
                case 0xc2:
                case 0xc3: break;  //  nil, false, true
                case 0xc4:
                case 0xd9: kind = BYTES, lenbytes = 1; break;  //  bin8, str8
                case 0xc5:
                case 0xda: kind = BYTES, lenbytes = 2; break;  //  bin16, str16
                case 0xc6:
                case 0xdb: kind = BYTES, lenbytes = 4; break;             //  bin32, str32
                case 0xc7: kind = BYTES, lenbytes = 1, extra = 1; break;  //  ext8 (+ type byte)
                case 0xc8: kind = BYTES, lenbytes = 2, extra = 1; break;  //  ext16
                case 0xc9: kind = BYTES, lenbytes = 4, extra = 1; break;  //  ext32
                case 0xcc:
                case 0xd0: extra = 1; break;  //  uint8, int8
                case 0xcd:
                case 0xd1: extra = 2; break;  //  uint16, int16
                case 0xca:
                case 0xce:
                case 0xd2: extra = 4; break;  //  float32, uint32, int32
                case 0xcb:
                case 0xcf:
                case 0xd3: extra = 8; break;      //  float64, uint64, int64
                case 0xd4: extra = 1 + 1; break;  //  fixext1..16: type byte + data
                case 0xd5: extra = 1 + 2; break;
                case 0xd6: extra = 1 + 4; break;
                case 0xd7: extra = 1 + 8; break;
                case 0xd8: extra = 1 + 16; break;
                case 0xdc: kind = ARRAY, lenbytes = 2; break;  //  array16
                case 0xdd: kind = ARRAY, lenbytes = 4; break;  //  array32
                case 0xde: kind = MAP, lenbytes = 2; break;    //  map16
                case 0xdf: kind = MAP, lenbytes = 4; break;    //  map32
                default: return "invalid msgpack byte";        //  0xc1, never used
            }
        if (lenbytes) {
            if (lenbytes > size - pos)
                return "truncated frame";
            n = s_be(data + pos, lenbytes);
            pos += lenbytes;
        }
        if (kind == SCALAR || kind == BYTES) {
            if (kind == BYTES)
                extra += n;  //  n < 2^32: no overflow
            if (extra > size - pos)
                return "truncated frame";
            pos += extra;
            continue;
        }
        if (n > limits->items_max)
            return "container too large";
        if (kind == MAP)
            n *= 2;  //  a key and a value per entry
        if (n > size - pos || open + n > size - pos)
            return "truncated frame";  //  each value still to read takes at least one byte
        if (depth + 1 > limits->depth_max)
            return "nesting too deep";
        left[++depth] = n;
        open += n;
    }
    return pos == size ? NULL : "trailing bytes after the message";
}
