//  config: the settings of architecture.md "Configuration", read and checked once at start.
//
//  Process environment: RC_ENV_DIR (default "environment"), GATEWAY_PORT (5000) and
//  GATEWAY_BIND (127.0.0.1): the public side, served by the nginx front; GATEWAY_INTERNAL_PORT
//  (0: any free port): the gateway's own loopback port behind the front (a TLS port, "8443s",
//  is refused); PUBLIC_URL (http://localhost:$GATEWAY_PORT): what browsers use, whose scheme
//  decides the Secure / __Host- cookie; DATA_MAP_MB (256): the LMDB map; DATA_DIR (var/data), RUN_DIR (var/run),
//  AUTHSVC_ENDPOINT / APISVC_ENDPOINT (ipc://$RUN_DIR/authsvc.sock, .../apisvc.sock),
//  LOG_LEVEL (info), RC_CONNECT_TIMEOUT_MS (3000), RC_TIMEOUT_MS (10000),
//  SERVICE_TIMEOUT_MS (3000: how long the gateway waits for a service), DEMO_MODE (0/1).
//  Env files $RC_ENV_DIR/.env-production and .env-sandbox: RC_SERVER_URL,
//  RC_CLIENT_ID, RC_CLIENT_SECRET, RC_REDIRECT_URL (a missing file leaves that
//  environment unconfigured; a file with bad content is an error).
#ifndef CONFIG_H_INCLUDED
#define CONFIG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_PATH_MAX 512
#define CONFIG_VALUE_MAX 512

typedef enum { CONFIG_PRODUCTION = 0, CONFIG_SANDBOX = 1, CONFIG_ENV_COUNT = 2 } config_env_t;

typedef struct {
    bool configured;                        //  the env file exists and is complete
    char server_url[CONFIG_VALUE_MAX];      //  no trailing slash
    char client_id[CONFIG_VALUE_MAX];
    char client_secret[CONFIG_VALUE_MAX];   //  secret: never logged, never sent to the browser
    char redirect_url[CONFIG_VALUE_MAX];
} config_rc_t;

typedef struct {
    config_rc_t rc[CONFIG_ENV_COUNT];
    char rc_env_dir[CONFIG_PATH_MAX];
    char data_dir[CONFIG_PATH_MAX];
    char run_dir[CONFIG_PATH_MAX];
    char authsvc_endpoint[CONFIG_PATH_MAX];
    char apisvc_endpoint[CONFIG_PATH_MAX];
    char gateway_bind[64];
    int gateway_port;                       //  the front's public port
    int gateway_internal_port;              //  civetweb's loopback port (0: any free one)
    char public_url[CONFIG_VALUE_MAX];      //  no trailing slash
    bool public_https;                      //  public_url is https://
    long data_map_mb;                       //  LMDB map size in MiB
    int log_level;
    long connect_timeout_ms;
    long timeout_ms;
    long service_timeout_ms;
    bool demo_mode;
} config_t;

//  Fill cfg from the process environment and the env files. Returns 0, or -1 with a one-line reason in err.
int config_load(config_t *cfg, char *err, size_t err_size);
//  Read one env file into rc (missing file: rc->configured = false, returns 0). Returns -1 with a reason in err on bad content.
int config_load_env_file(const char *path, config_rc_t *rc, char *err, size_t err_size);
//  The environment named name ("production", "sandbox"). Returns -1 for any other name.
int config_env_parse(const char *name);
//  The name of an environment ("production" / "sandbox").
const char *config_env_name(config_env_t env);
//  Read the whole number in environment variable name into *dst (dflt when unset or empty). Returns 0, or -1
//  with a one-line reason in err when it is not a whole number from lo to hi.
int config_getenv_long(long *dst, const char *name, long dflt, long lo, long hi, char *err, size_t err_size);
//  Log the effective configuration as one line per item, with secrets shown only as set/unset.
void config_log(const config_t *cfg);

#endif
