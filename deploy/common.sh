# Shared by deploy/start, stop, status, run: the stack's settings (README, "Configuration").
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
# The gateway's Prometheus metrics, on 127.0.0.1 only (0: none). A second stack on this host needs another.
: "${METRICS_PORT:=9464}"
: "${START_TIMEOUT:=15}"
: "${STOP_TIMEOUT:=10}"   # above the processes' DRAIN_TIMEOUT_MS (5 s): a drain is not cut short
# TLS=1 (make run TLS=1) without TLS_CERT/TLS_KEY: a self-signed localhost certificate that
# deploy/start makes in DATA_DIR/tls (kept across runs, so a browser's exception stays valid).
if [ "${TLS:-0}" = 1 ] && [ -z "${TLS_CERT:-}${TLS_KEY:-}" ]; then
  TLS_CERT="$DATA_DIR/tls/localhost.crt" TLS_KEY="$DATA_DIR/tls/localhost.key" TLS_SELF_SIGNED=1
fi
if [ -n "${TLS_CERT:-}" ]; then scheme=https; else scheme=http; fi
# PUBLIC_URL: as set; else what deploy/start worked out (authsvc --check-config: the origin of the
# configured redirect URIs, or localhost in demo mode) and kept in RUN_DIR/public.url.
PUBLIC_URL_SET=${PUBLIC_URL:+1}
: "${PUBLIC_URL:=$(cat "$RUN_DIR/public.url" 2>/dev/null || echo "$scheme://localhost:$GATEWAY_PORT")}"
export RUN_DIR DATA_DIR RC_ENV_DIR GATEWAY_PORT GATEWAY_BIND PUBLIC_URL TLS_CERT TLS_KEY METRICS_PORT STOP_TIMEOUT
# The processes of a stack, in start order; nginx (the public front) last.
SERVICES=(authsvc apisvc gateway nginx)

# pid_in FILE MARK: the pid in FILE when that process is alive and its command line has MARK (a regex).
pid_in() {
  local pid
  [ -f "$1" ] || return 1
  read -r pid 2>/dev/null <"$1"
  [[ "${pid:-}" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # The command line's NUL separators read as spaces (bash builtins: status and stop poll this).
  local cmdline="" args try
  for try in 1 2 3; do      # empty: a zombie's (alive says so), or a read cut short (looked at again)
    mapfile -d '' -t args 2>/dev/null <"/proc/$pid/cmdline" && cmdline="${args[*]}"
    [ -z "$cmdline" ] && alive "$pid" || break
  done
  [[ "$cmdline" =~ $2 ]] || return 1
  echo "$pid"
}

# pid_of NAME: the pid in RUN_DIR/NAME.pid when that process is alive and is ours.
pid_of() {
  local mark="bin/$1\b"
  # Never signal a recycled pid: the process must be our binary (nginx: with our configuration).
  [ "$1" = nginx ] && mark="-c $(cd "$RUN_DIR" && pwd)/nginx.conf"
  pid_in "$RUN_DIR/$1.pid" "$mark"
}

# supervisor_of NAME: the pid of the deploy/supervise that runs NAME (RUN_DIR/NAME.supervise.pid), when alive.
supervisor_of() {
  pid_in "$RUN_DIR/$1.supervise.pid" "deploy/supervise $1 "
}

# restarts_of NAME: how many times NAME's supervisor started it again (0 when none or not supervised),
# then how it last ended (exit=N or signal=N) when it did.
restarts_of() {
  local n how
  read -r n how 2>/dev/null <"$RUN_DIR/$1.restarts"
  [[ "${n:-}" =~ ^[0-9]+$ ]] && echo "$n${how:+ $how}" || echo 0
}

# stop_signal NAME: the signal that stops NAME gracefully: SIGTERM for ours (they drain), SIGQUIT for
# nginx (its SIGTERM is a fast shutdown that drops the answers in progress).
stop_signal() { if [ "$1" = nginx ]; then echo QUIT; else echo TERM; fi; }

# stop_one NAME: stop NAME, its supervisor first (so nothing restarts it: the supervisor passes SIGTERM on
# and sends SIGKILL after STOP_TIMEOUT), or the process itself when it runs unsupervised. Says what it
# stopped. Returns 0 when it stopped something, 1 when nothing ran, 2 when something needed SIGKILL.
stop_one() {
  local name=$1 sup pid what deadline rc=0
  sup=$(supervisor_of "$name") || sup=""
  pid=$(pid_of "$name") || pid=""
  if [ -z "$sup$pid" ]; then
    rm -f "$RUN_DIR/$name.pid" "$RUN_DIR/$name.supervise.pid" "$RUN_DIR/$name.restarts"
    return 1
  fi
  what="$name (pid ${pid:-none: restarting})"
  if [ -n "$sup" ]; then
    kill -TERM "$sup" 2>/dev/null
    deadline=$((SECONDS + STOP_TIMEOUT + 3))
    while alive "$sup" && [ $SECONDS -lt $deadline ]; do pause 0.05; done
    if alive "$sup"; then
      echo "stop: the supervisor of $name (pid $sup) did not stop; SIGKILL"
      kill -KILL "$sup" 2>/dev/null; rc=2
    fi
    [ -n "$pid" ] && alive "$pid" && { kill -KILL "$pid" 2>/dev/null; rc=2; }
    # The supervisor says so in the log when the process outlived STOP_TIMEOUT.
    if [ -n "$pid" ] && tail -n 5 "$RUN_DIR/$name.log" 2>/dev/null | grep -q "ev=stop.kill name=$name pid=$pid "; then
      echo "stop: $name (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT}s; SIGKILL"; rc=2
    fi
  else
    kill -"$(stop_signal "$name")" "$pid" 2>/dev/null
    deadline=$((SECONDS + STOP_TIMEOUT))
    while alive "$pid" && [ $SECONDS -lt $deadline ]; do pause 0.05; done
    if alive "$pid"; then
      echo "stop: $name (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT}s; SIGKILL"
      kill -KILL "$pid" 2>/dev/null; rc=2
    fi
  fi
  [ $rc = 0 ] && echo "stop: $what stopped"
  rm -f "$RUN_DIR/$name.pid" "$RUN_DIR/$name.supervise.pid" "$RUN_DIR/$name.restarts"
  return $rc
}

# alive PID: the process exists and has not exited. An exited child of a finished deploy/start
# belongs to init, which may take seconds to reap it: a zombie counts as gone.
alive() {
  local line=""
  [ -e "/proc/$1" ] || return 1
  read -r line 2>/dev/null <"/proc/$1/stat"
  [ -n "$line" ] || return 0      # there, but the read came back empty (cut short): gone is decided next time
  line=${line##*) }               # the state follows the command name, which may hold spaces
  [ "${line%% *}" != Z ]
}

# pause SECONDS: sleep without starting a process (read -t on a pipe nobody writes to; stop polls with it).
pause() {
  [ -n "${pause_fd:-}" ] || exec {pause_fd}<> <(:)
  read -r -t "$1" -u "$pause_fd" _ || true
}

# The gateway's own loopback port behind the front: GATEWAY_INTERNAL_PORT, or the one
# deploy/start picked (RUN_DIR/gateway.port), for status and stop.
internal_port() {
  if [ -n "${GATEWAY_INTERNAL_PORT:-}" ]; then echo "$GATEWAY_INTERNAL_PORT"
  else cat "$RUN_DIR/gateway.port" 2>/dev/null; fi
}

# curl of the public side (-k: our own certificate may be self-signed; this is a probe).
public_curl() {
  curl -fsS -k --max-time 5 "$@"
}
public_probe_url() {
  echo "$scheme://$GATEWAY_BIND:$GATEWAY_PORT"
}

# has_credentials: 0 when an env file has credentials (not demo mode), 1 when none has (no files, or
# templates with RC_CLIENT_ID empty), as authsvc reads them: `authsvc --check-config` (the C parser is
# the only parser of the env files). 2 when the configuration has problems, which it prints to stderr
# (each with file and line): a mistyped key never quietly means demo mode.
# Sets CONFIG_PUBLIC_URL to the PUBLIC_URL the services will use (given PUBLIC_URL, or derived).
has_credentials() {
  local verdict
  verdict=$("$BUILD/bin/authsvc" --check-config 2>&1) || { echo "$verdict" >&2; return 2; }
  CONFIG_PUBLIC_URL=${verdict##* public_url=}
  [[ "$verdict" == *=configured* ]]
}
