#!/bin/sh
# Stops Tether delegate @@DELEGATE_NAME@@: SIGTERM, so it says goodbye to the manager, then waits.
# It signals the pid in delegate.pid only when that process is this delegate.
set -eu
dir=$(cd "$(dirname "$0")" && pwd -P)
config="$dir/config-delegate.yaml"
pidfile="$dir/delegate.pid"

# Whether PID is this install's delegate: its command line names this config file.
is_delegate() {
  if [ -r "/proc/$1/cmdline" ]; then
    tr '\0' ' ' <"/proc/$1/cmdline"
  else
    ps -ww -p "$1" -o args= 2>/dev/null || true
  fi | grep -q -F -e "--config $config"
}

if [ ! -f "$pidfile" ]; then
  echo "tether-delegate is not running (no $pidfile)"
  exit 0
fi
pid=$(cat "$pidfile")
case "$pid" in
  '' | *[!0-9]*)
    echo "stop.sh: $pidfile holds '$pid', not a process id; signalling nothing. Remove the file if no delegate runs" >&2
    exit 1 ;;
esac
if ! is_delegate "$pid"; then
  rm -f "$pidfile"
  echo "tether-delegate is not running: pid $pid in $pidfile is not this delegate (its command line does not" \
    "name $config), so it was not signalled; removed the stale pid file"
  exit 0
fi
kill -TERM "$pid" 2>/dev/null || true
i=0
while is_delegate "$pid" && [ "$i" -lt 300 ]; do
  sleep 0.1
  i=$((i + 1))
done
if is_delegate "$pid"; then
  echo "tether-delegate (pid $pid) did not stop within 30 s; sending SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
fi
rm -f "$pidfile"
echo "tether-delegate stopped (pid $pid)"
