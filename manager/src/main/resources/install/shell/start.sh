#!/bin/sh
# Starts Tether delegate @@DELEGATE_NAME@@ in the background with config-delegate.yaml.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
jar=${TETHER_DELEGATE_JAR:-$dir/tether-delegate.jar}
pidfile="$dir/delegate.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "tether-delegate is already running (pid $(cat "$pidfile"))"
  exit 0
fi
if [ ! -f "$jar" ]; then
  echo "start.sh: $jar not found (copy tether-delegate.jar here or set TETHER_DELEGATE_JAR)" >&2
  exit 1
fi
# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
nohup java ${JAVA_OPTS:-} -jar "$jar" --config "$dir/config-delegate.yaml" >>"$dir/delegate.log" 2>&1 &
echo $! >"$pidfile"
echo "tether-delegate started (pid $!); log: $dir/delegate.log"
