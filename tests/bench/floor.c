//  floor: the resident memory of a process that only loads and starts the libraries a
//  service links (ZeroMQ; libcurl with OpenSSL, as authsvc and apisvc; civetweb, as the
//  gateway) and does nothing else. tests/bench/run prints it next to the services' RSS:
//  what no code of ours can go below. Built by the bench script itself, not by make.
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>
#ifdef WITH_CURL
#include <curl/curl.h>
#endif
#ifdef WITH_CIVETWEB
#include <civetweb.h>
#endif

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    void *ctx = zmq_ctx_new();
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    if (!router || zmq_bind(router, argv[1]) != 0)
        return 1;
#ifdef WITH_CURL
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !curl_multi_init())
        return 1;
#endif
#ifdef WITH_CIVETWEB
    mg_init_library(0);
    const char *options[] = { "listening_ports", "127.0.0.1:0", "num_threads", "1", NULL };
    struct mg_callbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    if (!mg_start(&callbacks, NULL, options))
        return 1;
#endif
    usleep(200 * 1000);  //  let the background threads start
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            printf("%s", line + 6);
    if (f)
        fclose(f);
    return 0;
}
