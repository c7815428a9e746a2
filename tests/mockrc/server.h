//  server: the civetweb server of the mock: start it on bind:port with the
//  route table, tell the port it got, and stop it quickly.
#ifndef MOCKRC_SERVER_H_INCLUDED
#define MOCKRC_SERVER_H_INCLUDED

#include "tests/mockrc/state.h"

typedef struct _server_t server_t;

//  Listen on bind:port (port 0: any free one) with threads workers and an idle keep-alive
//  timeout of keep_alive_ms, serving st. Returns NULL and logs why on failure.
server_t *server_start(const char *bind, long port, long threads, long keep_alive_ms, state_t *st);
//  The port actually listened on.
int server_port(const server_t *self);
//  The base URL clients use ("http://127.0.0.1:PORT"; loopback when bound to any address).
const char *server_url(const server_t *self);
//  Stop serving (in about 20 ms, idle keep-alive connections included) and set *self_p to NULL.
//  Safe with NULL.
void server_stop(server_t **self_p);

#endif
