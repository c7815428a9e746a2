//  bus: who may talk on the ZeroMQ bus between the gateway, authsvc and apisvc.
//
//  ipc:// endpoints (the default) are sockets in RUN_DIR, which is 0700: only the stack's user can
//  connect, so they carry no other check. A tcp:// endpoint is open to every local user (or more),
//  so it requires CURVE: each server (authsvc, apisvc) has a certificate, each client role (gateway,
//  apisvc as authsvc's client) has one whose metadata names its role ("role = gateway"). All live in
//  the certificate directory (BUS_CERT_DIR, default $DATA_DIR/bus; secret files 0600):
//      <service>.cert, <service>.cert_secret      the server's keys; <service>.pub: its public key alone
//      <role>-client.cert, <role>-client.cert_secret   a client role's keys
//      <service>.clients/<role>-client.cert       the client certificates the server accepts
//  Each server runs a czmq zauth actor on <service>.clients (a certificate removed there refuses the
//  next handshake), a monitor logging and counting failed handshakes (rcauth_bus_auth_failures_total),
//  and checks the sender's role on every message against what that role may send (removing a
//  certificate does not cut a live connection). A tcp endpoint without keys refuses to start unless
//  INSECURE_BUS=1.
#ifndef BUS_H_INCLUDED
#define BUS_H_INCLUDED

#include "proto/proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <zmq.h>

typedef struct _bus_server_t bus_server_t;

//  The ZeroMQ context of a service with a bus server: czmq's (a zauth actor serves the sockets of its own
//  context only), with czmq's signal handlers off (svc has its own). Returns NULL on failure.
void *bus_ctx_new(void);
//  End the context from bus_ctx_new (every socket closed first); set *ctx_p to NULL. Safe with NULL.
void bus_ctx_term(void **ctx_p);
//  The certificate directory into buf: BUS_CERT_DIR, else $DATA_DIR/bus, else var/data/bus. Returns buf.
const char *bus_cert_dir(char *buf, size_t size);
//  Create in dir (made 0700 when absent) every certificate that is missing, and each server's list of
//  accepted clients. Returns 0, or -1 with a one-line reason in err.
int bus_make_certs(const char *dir, char *err, size_t err_size);

//  Secure the ROUTER of service name before it binds endpoint (see above; ctx from bus_ctx_new for tcp).
//  Returns the server (nothing to check for ipc/inproc or INSECURE_BUS=1), or NULL (logged) when a tcp
//  endpoint has no usable keys.
bus_server_t *bus_server_new(void *ctx, void *router, const char *name, const char *endpoint);
//  Stop the zauth actor and the monitor; set *self_p to NULL. Safe with NULL. Before the ROUTER closes.
void bus_server_destroy(bus_server_t **self_p);
//  The monitor socket to poll (NULL when there is none); bus_server_on_monitor when it is readable.
void *bus_server_monitor(bus_server_t *self);
//  Read one monitor event: a failed handshake is logged and counted.
void bus_server_on_monitor(bus_server_t *self);
//  Whether the sender of frame (a received message) may send a message of type: always on a server
//  without checks; else from the role of the sender's certificate. A refusal is logged and counted.
bool bus_server_allows(bus_server_t *self, zmq_msg_t *frame, proto_type_t type);

//  Secure a client socket of role ("gateway", "apisvc") for server before it connects to endpoint:
//  CURVE with the role's certificate and the server's public key for tcp. Returns 0, or -1 (logged)
//  when a tcp endpoint has no usable keys (and INSECURE_BUS is not 1).
int bus_client_setup(void *socket, const char *role, const char *server, const char *endpoint);

#endif
