//  json_check: see json_check.h.
#include "apisvc/json_check.h"

#include <string.h>
#include <yajl/yajl_parse.h>

bool json_check_document(const char *body, size_t len)
{
    //  A document, not a bare scalar: the first non-blank byte opens an object or an array.
    size_t i = 0;
    while (i < len && strchr(" \t\r\n", body[i]) && body[i] != '\0')
        i++;
    if (i == len || (body[i] != '{' && body[i] != '['))
        return false;
    yajl_handle h = yajl_alloc(NULL, NULL, NULL);
    if (!h)
        return false;
    bool ok =
        yajl_parse(h, (const unsigned char *) body, len) == yajl_status_ok && yajl_complete_parse(h) == yajl_status_ok;
    yajl_free(h);
    return ok;
}
