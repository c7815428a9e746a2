//  forbidden: force-included into every gateway object by the Makefile (-include), never by hand.
//
//  The gateway never talks to RingCentral and never opens the token store: authsvc and apisvc do
//  (docs/ARCHITECTURE.md, "Rules"). Poisoning the first names of libcurl's, LMDB's and the store's
//  APIs makes an #include of <curl/curl.h>, <lmdb.h>, common/http.h or common/store.h, or any call
//  of them, a compile error in gateway code; the gateway's link line has neither library either.
//  Its tests (gateway/*_test.c) are exempt: they may use libcurl as an HTTP client.
#pragma GCC poison curl_easy_init curl_multi_init curl_url curl_global_init
#pragma GCC poison mdb_env_create mdb_env_open mdb_txn_begin
#pragma GCC poison store_open http_new
