# Shared by deploy/start, stop, status: the configuration of architecture.md.
# Sourced, not run. Paths are relative to the project top unless absolute.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
: "${BUILD:=build}"
: "${RUN_DIR:=var/run}"
: "${DATA_DIR:=var/data}"
: "${RC_ENV_DIR:=environment}"
: "${GATEWAY_PORT:=5000}"
: "${GATEWAY_BIND:=127.0.0.1}"
: "${MOCK_PORT:=5001}"
: "${PUBLIC_URL:=http://localhost:$GATEWAY_PORT}"
: "${START_TIMEOUT:=15}"
: "${STOP_TIMEOUT:=5}"
export RUN_DIR DATA_DIR RC_ENV_DIR GATEWAY_PORT GATEWAY_BIND
SERVICES=(authsvc apisvc gateway)

# pid_of NAME: the pid in RUN_DIR/NAME.pid when that process is alive and is ours.
pid_of() {
  local f="$RUN_DIR/$1.pid" pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f" 2>/dev/null)
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Never signal a recycled pid: the process must be our binary.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "bin/$1\b" || return 1
  echo "$pid"
}

# has_credentials: true when an env file has a client id (not demo mode).
has_credentials() {
  grep -qsE '^\s*(export\s+)?RC_CLIENT_ID\s*=\s*["'"'"']?[^"'"'"'[:space:]]' \
    "$RC_ENV_DIR/.env-production" "$RC_ENV_DIR/.env-sandbox"
}
