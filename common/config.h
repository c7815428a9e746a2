//  config: the settings of README.md "Configuration", read and checked once at start.
//
//  Process environment: RC_ENV_DIR (default "environment"), GATEWAY_PORT (5000) and
//  GATEWAY_BIND (127.0.0.1): the public side, served by the nginx front; GATEWAY_INTERNAL_PORT
//  (0: any free port): the gateway's own loopback port behind the front (a TLS port, "8443s",
//  is refused); PUBLIC_URL: what browsers use, whose scheme decides the Secure / __Host- cookie
//  (default: the origin of the configured RC_REDIRECT_URLs, else http://localhost:$GATEWAY_PORT,
//  https:// when TLS_CERT is set); DATA_MAP_MB (256): the LMDB map; DATA_DIR (var/data), RUN_DIR (var/run),
//  KEY_FILE ($DATA_DIR/keys: the key ring sealing the store's secrets, common/seal.h),
//  AUTHSVC_ENDPOINT / APISVC_ENDPOINT (ipc://$RUN_DIR/authsvc.sock, .../apisvc.sock),
//  LOG_LEVEL (info), RC_CONNECT_TIMEOUT_MS (3000), RC_TIMEOUT_MS (10000),
//  SERVICE_TIMEOUT_MS (3000: how long the gateway waits for a service), DEMO_MODE (0/1).
//  Env files $RC_ENV_DIR/.env-production and .env-sandbox: RC_SERVER_URL,
//  RC_CLIENT_ID, RC_CLIENT_SECRET, RC_REDIRECT_URL (a missing file, or one whose
//  RC_CLIENT_ID is empty or absent, leaves that environment unconfigured: demo mode;
//  a file with bad content is an error).
//
//  Env file format, as dotenv (python-dotenv, Node's dotenv) reads it:
//  - one KEY=value per line, an optional "export " before it, blanks around '=' allowed;
//    blank lines and lines starting with '#' are comments; CRLF and a UTF-8 BOM are fine.
//  - KEY is [A-Za-z_][A-Za-z0-9_]*; a line without '=', with an empty key or another
//    character in the key is "path:line: expected KEY=value".
//  - an unquoted value ends at a '#' that starts it or follows a blank (space/tab): that is
//    an inline comment, and the blanks before it go too. So "KEY=value # note" is "value"
//    and "KEY=a#b" is "a#b" (python-dotenv's rule and the shell's; Node's dotenv would cut
//    "a#b" to "a": quote such a value to be read the same everywhere). "KEY= # note" is empty.
//  - a value in "..." or '...' is everything between the quotes, '#' included; in "..."
//    \" and \\ are a quote and a backslash (no other escapes; '...' has none). After the
//    closing quote only blanks and a # comment may follow. Values are one line.
//  - in RC_REDIRECT_URL, ${GATEWAY_PORT} stands for the port (as dotenv-expand does), so the
//    redirect URI follows it; any other ${NAME} is an error.
//  - keys: the four above; the keys of RingCentral's other sample .env files, accepted
//    and ignored: RC_USERNAME, RC_PASSWORD, RC_EXTENSION, RC_JWT, RC_USER_JWT. Any other
//    key is an error ("unknown key"), with "did you mean K?" when K is a known key within
//    max(2, len(K) / 4) edits ignoring case (a swap of neighbours is one edit), and for
//    RC_APP_CLIENT_ID / RC_APP_CLIENT_SECRET (newer samples' names). A key set twice is an error.
//  - with RC_CLIENT_ID set, each of RC_SERVER_URL, RC_CLIENT_SECRET, RC_REDIRECT_URL that is
//    missing or empty is named, and the two URLs must be http(s).
//  Every problem is reported (not only the first), each with "path:line:" ("path:" for a
//  missing key). Values are never quoted in errors except the two URLs, so no secret is.
#ifndef CONFIG_H_INCLUDED
#define CONFIG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_PATH_MAX 512
#define CONFIG_VALUE_MAX 512

typedef enum { CONFIG_PRODUCTION = 0, CONFIG_SANDBOX = 1, CONFIG_ENV_COUNT = 2 } config_env_t;

typedef struct {
    bool configured;                    //  the env file exists and is complete
    char server_url[CONFIG_VALUE_MAX];  //  no trailing slash
    char client_id[CONFIG_VALUE_MAX];
    char client_secret[CONFIG_VALUE_MAX];  //  secret: never logged, never sent to the browser; authsvc's only
    char redirect_url[CONFIG_VALUE_MAX];
} config_rc_t;

typedef struct {
    config_rc_t rc[CONFIG_ENV_COUNT];
    char rc_env_dir[CONFIG_PATH_MAX];
    char data_dir[CONFIG_PATH_MAX];
    char key_file[CONFIG_PATH_MAX];
    char run_dir[CONFIG_PATH_MAX];
    char authsvc_endpoint[CONFIG_PATH_MAX];
    char apisvc_endpoint[CONFIG_PATH_MAX];
    char gateway_bind[64];
    int gateway_port;                   //  the front's public port
    int gateway_internal_port;          //  civetweb's loopback port (0: any free one)
    char public_url[CONFIG_VALUE_MAX];  //  no trailing slash
    bool public_https;                  //  public_url is https://
    bool public_url_derived;            //  PUBLIC_URL unset: public_url is the redirect URIs' origin (or localhost)
    long data_map_mb;                   //  LMDB map size in MiB
    int log_level;
    long connect_timeout_ms;
    long timeout_ms;
    long service_timeout_ms;
    bool demo_mode;
} config_t;

//  Fill cfg from the process environment and the env files, without the client secrets (each RC_CLIENT_SECRET is
//  checked but not kept: rc[].client_secret is empty): what every process but authsvc loads. Returns 0, or -1 with
//  a one-line reason in err: the first bad environment variable, or every problem of both env files separated by
//  "; " (those that do not fit in err_size are counted: "; and 3 more").
int config_load(config_t *cfg, char *err, size_t err_size);
//  config_load with the client secrets: authsvc's alone (the token endpoint needs them). Returns as config_load.
int config_load_with_secrets(config_t *cfg, char *err, size_t err_size);
//  Wipe cfg (the client secrets with it) before its memory is let go.
void config_wipe(config_t *cfg);
//  Read one env file into rc, its client secret included, ${GATEWAY_PORT} standing for gateway_port (missing file or no RC_CLIENT_ID: rc->configured = false, returns 0). Returns -1 with
//  its problems in err as config_load does (rc then is not configured).
int config_load_env_file(const char *path, config_rc_t *rc, int gateway_port, char *err, size_t err_size);
//  Check that each configured environment's RC_REDIRECT_URL is PUBLIC_URL's origin + "/oauth2callback" (the
//  browser's cookie and RingCentral's answer must meet on one host). Returns 0, or -1 with each mismatch named
//  (file and both URLs, and what to set) in err, separated by "; ".
int config_check_redirects(const config_t *cfg, char *err, size_t err_size);
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
