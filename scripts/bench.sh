#!/usr/bin/env bash
# Runs a benchmark scenario. The last line of the output is its result as one JSON object.
#   scripts/bench.sh crypto [--quick]               JMH: the handshake's cryptography, per operation
#   scripts/bench.sh handshakes [--quick]           new delegates per second, manager vs bare grpc-java
#   scripts/bench.sh revocation [--quick]           revoke to last stream closed, N = 1, 100, 10 000
#   scripts/bench.sh replica-revocation [--quick]   3 replicas on PostgreSQL: revoke to last stream closed
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scenario="${1:-}"
shift || true
case "$scenario" in
  crypto|handshakes|revocation)
    if [ ! -f bench/target/tether-bench.jar ]; then
      mvn -B -ntp -q -DskipTests package -pl bench -am >/dev/null
    fi
    ulimit -n 65536 2>/dev/null || true
    exec java -Xmx2g -jar bench/target/tether-bench.jar "$scenario" "$@"
    ;;
  replica-revocation)
    exec scripts/bench-replicas.sh "$@"
    ;;
  *)
    echo "bench.sh: unknown scenario '$scenario' (expected crypto, handshakes, revocation or replica-revocation, optionally with --quick)" >&2
    exit 2
    ;;
esac
