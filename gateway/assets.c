//  assets: see assets.h. The files themselves are gateway/static/*: edit them there (the ETag
//  follows the content).
#include "gateway/assets.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

//  The files of gateway/static/, embedded by gateway/assets_data.S: [name, name_end).
extern const char assets_app_js[], assets_app_js_end[];
extern const char assets_app_css[], assets_app_css_end[];
extern const char assets_favicon_svg[], assets_favicon_svg_end[];

#define ETAG_SIZE 24  //  quotes + 16 hex + NUL, with room to spare
#define FILE(path, type, name)    \
    {                             \
        path, type, name, 0, NULL \
    }

static assets_file_t s_files[] = {
    FILE("/static/app.js", "text/javascript; charset=utf-8", assets_app_js),
    FILE("/static/app.css", "text/css; charset=utf-8", assets_app_css),
    FILE("/static/favicon.svg", "image/svg+xml", assets_favicon_svg),
};
static const char *const s_ends[] = { assets_app_js_end, assets_app_css_end, assets_favicon_svg_end };
#define FILE_COUNT (sizeof s_files / sizeof s_files[0])
static char s_etags[FILE_COUNT][ETAG_SIZE];
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

//  Fill each file's length, and its ETag from a hash of its body, once per process.
static void s_make_etags(void)
{
    for (size_t i = 0; i < FILE_COUNT; i++) {
        s_files[i].len = (size_t) (s_ends[i] - s_files[i].body);
        unsigned char hash[8];
        char hex[sizeof hash * 2 + 1];
        crypto_generichash(hash, sizeof hash, (const unsigned char *) s_files[i].body, s_files[i].len, NULL, 0);
        sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
        memcpy(s_etags[i], "\"", 1);
        memcpy(s_etags[i] + 1, hex, sizeof hex - 1);
        memcpy(s_etags[i] + sizeof hex, "\"", 2);
        s_files[i].etag = s_etags[i];
    }
}

const assets_file_t *assets_find(const char *path)
{
    pthread_once(&s_once, s_make_etags);
    for (size_t i = 0; path && i < FILE_COUNT; i++)
        if (strcmp(s_files[i].path, path) == 0)
            return &s_files[i];
    return NULL;
}
