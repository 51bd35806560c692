#!/usr/bin/env bash
# Revocation latency to the last stream across 3 manager replicas on one (embedded) PostgreSQL.
# Usage: scripts/bench-replicas.sh [--quick]   (--quick: 200 streams per replica, 3 trials)
# The last line of the output is the result as one JSON object.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
streams=1000
trials=10
if [ "${1:-}" = "--quick" ]; then
  streams=200
  trials=3
fi
ulimit -n 65536 2>/dev/null || true
log=$(mktemp)
run() {
  if ! "$@" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "bench-replicas: failed: $*" >&2
    exit 1
  fi
}
run mvn -B -ntp -q -DskipTests install -pl manager -am
run mvn -B -ntp -q surefire:test -pl manager -Dtether.excludedGroups= -Dgroups=benchmark \
  -Dtest=ReplicaRevocationBenchmark -Dsurefire.failIfNoSpecifiedTests=false \
  -Dtether.bench.streams="$streams" -Dtether.bench.trials="$trials"
rm -f "$log"
out=manager/target/surefire-reports/dev.tether.manager.cluster.ReplicaRevocationBenchmark-output.txt
grep -E '^(warm-up|trial) ' "$out"
grep '^{' "$out" | tail -n 1
