#!/bin/sh
# Starts Tether delegate @@DELEGATE_NAME@@ in the background with config-delegate.yaml, then waits
# until it is connected to the manager, has stopped, or TETHER_START_WAIT seconds (default 60,
# 0: do not wait) have passed, and says which. Exit status:
#   0  connected (or already running)
#   1  it could not start, exited, or cannot authenticate with its token (then it is stopped);
#      its last log lines are shown
#   2  still not connected at the deadline: it keeps trying in the background (./stop.sh stops it)
# Each start moves delegate.log to delegate.log.1 (keeping 5 old logs).
set -eu
dir=$(cd "$(dirname "$0")" && pwd -P)
jar=${TETHER_DELEGATE_JAR:-$dir/tether-delegate.jar}
config="$dir/config-delegate.yaml"
pidfile="$dir/delegate.pid"
log="$dir/delegate.log"
health="$dir/health"
wait_seconds=${TETHER_START_WAIT:-60}
keep_logs=5

# Whether PID is this install's delegate: its command line names this config file. A pid file
# can outlive its process, and the number be given to another process.
is_delegate() {
  if [ -r "/proc/$1/cmdline" ]; then
    tr '\0' ' ' <"/proc/$1/cmdline"
  else
    ps -ww -p "$1" -o args= 2>/dev/null || true
  fi | grep -q -F -e "--config $config"
}

# Whether PID runs (an exited child of this shell stays a zombie until it is waited for).
running() {
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  case "$state" in
    Z* | "") return 1 ;;
    *) return 0 ;;
  esac
}

last_lines() {
  echo "--- last lines of $log ---" >&2
  tail -n 20 "$log" >&2 || true
}

case "$wait_seconds" in
  '' | *[!0-9]*)
    echo "start.sh: TETHER_START_WAIT '$wait_seconds' is not a number of seconds (expected for example 60, or 0 not to wait)" >&2
    exit 1 ;;
esac
if [ -f "$pidfile" ]; then
  old=$(cat "$pidfile")
  if is_delegate "$old"; then
    echo "tether-delegate is already running (pid $old)"
    exit 0
  fi
  echo "start.sh: removing the stale $pidfile (pid $old is not this delegate)"
  rm -f "$pidfile"
fi
if [ ! -f "$jar" ]; then
  echo "start.sh: $jar not found (copy tether-delegate.jar here or set TETHER_DELEGATE_JAR)" >&2
  exit 1
fi
if ! command -v java >/dev/null 2>&1; then
  echo "start.sh: java not found on PATH (install Java 17 or later)" >&2
  exit 1
fi

i=$keep_logs
while [ "$i" -gt 1 ]; do
  if [ -f "$log.$((i - 1))" ]; then
    mv -f "$log.$((i - 1))" "$log.$i"
  fi
  i=$((i - 1))
done
if [ -f "$log" ]; then
  mv -f "$log" "$log.1"
fi
# a ready file left by a delegate that was killed must not pass for this one's
rm -f "$health/ready"

cd "$dir"
# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
DELEGATE_HEALTH_DIR="$health" nohup java ${JAVA_OPTS:-} -jar "$jar" --config "$config" >>"$log" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$pidfile"
if [ "$wait_seconds" -eq 0 ]; then
  echo "tether-delegate started (pid $pid), not waiting for it to connect; log: $log"
  exit 0
fi

ticks=0
while :; do
  if [ -e "$health/ready" ]; then
    echo "tether-delegate started (pid $pid) and connected to the manager; log: $log"
    exit 0
  fi
  if ! running "$pid"; then
    code=0
    wait "$pid" || code=$?
    rm -f "$pidfile"
    echo "start.sh: tether-delegate exited with code $code before it connected (78: its token is malformed," \
      "revoked, expired or refused; 1: a configuration error)" >&2
    last_lines
    exit 1
  fi
  # With a token file the delegate does not exit on a bad token: it waits for the file to change.
  if grep -q -s -E 'waiting for (delegateTokenFile|DELEGATE_TOKEN_FILE)' "$log"; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" || true
    rm -f "$pidfile"
    echo "start.sh: tether-delegate cannot authenticate with the token in $dir/delegate-token, so it was" \
      "stopped; put a valid token there (docs/rotation.md) and run start.sh again" >&2
    last_lines
    exit 1
  fi
  if [ "$ticks" -ge $((wait_seconds * 2)) ]; then
    echo "start.sh: tether-delegate (pid $pid) is running but has not connected to the manager within" \
      "$wait_seconds s; it keeps trying in the background (./stop.sh stops it)" >&2
    last_lines
    exit 2
  fi
  sleep 0.5
  ticks=$((ticks + 1))
done
