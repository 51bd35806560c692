#!/bin/sh
# Stops Tether delegate @@DELEGATE_NAME@@: SIGTERM, so it says goodbye to the manager, then waits.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
pidfile="$dir/delegate.pid"
if [ ! -f "$pidfile" ]; then
  echo "tether-delegate is not running (no $pidfile)"
  exit 0
fi
pid=$(cat "$pidfile")
if kill -TERM "$pid" 2>/dev/null; then
  i=0
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 300 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "tether-delegate (pid $pid) did not stop within 30 s; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
fi
rm -f "$pidfile"
echo "tether-delegate stopped"
