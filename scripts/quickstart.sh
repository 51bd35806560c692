#!/usr/bin/env bash
# Tether in two minutes: build, start a manager on embedded H2, create an account and a token,
# start three delegates, revoke the token and watch them cut off, rotate one onto a new token
# through its token file, then clean up. Exits non-zero if any step fails.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
work="$(mktemp -d "${TMPDIR:-/tmp}/tether-quickstart.XXXXXX")"
port="${TETHER_QUICKSTART_PORT:-17443}"
admin_port="$((port + 1))"
ops_port="$((port + 2))"
console_port="$((port + 3))"
pids=()
manager_pid=""

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() { echo "quickstart FAILED: $*" >&2; echo "logs are kept in $work" >&2; keep_logs=1; exit 1; }
keep_logs=0

cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  if [ -n "$manager_pid" ]; then kill -TERM "$manager_pid" 2>/dev/null || true; fi
  for pid in "${pids[@]}" $manager_pid; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ "$status" -ne 0 ] || [ "$keep_logs" -ne 0 ]; then
    echo "logs kept in $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

manager() { scripts/tether-manager "$@" --manager "127.0.0.1:$admin_port" --data-dir "$work/data"; }
# json_field NAME < JSON: the first string field NAME of the CLI's --json output (docs/cli-output.md)
json_field() { sed -n "s/.*\"$1\" *: *\"\([^\"]*\)\".*/\1/p" | head -n 1; }

# wait_for SECONDS DESCRIPTION COMMAND...: retry COMMAND until it succeeds
wait_for() {
  local seconds=$1 what=$2; shift 2
  for _ in $(seq 1 $((seconds * 5))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  fail "timed out after ${seconds}s waiting for $what"
}

connected_count() { manager delegate list --account "$account" | grep -c ' CONNECTED ' || true; }
has_connected() { [ "$(connected_count)" -eq "$1" ]; }

step "Building (mvn -B -ntp -q -DskipTests package)"
command -v java >/dev/null || fail "java is not installed (JDK 17 or newer is needed)"
command -v mvn >/dev/null || fail "mvn is not installed (Maven 3.8.7 or newer is needed)"
# before the build, so that a busy port costs seconds, not a build and a timeout
for p in "$port" "$admin_port" "$ops_port" "$console_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    fail "port $p on 127.0.0.1 is already in use (an earlier quickstart or manager still running?). Stop it, or pick other ports: TETHER_QUICKSTART_PORT=18443 scripts/quickstart.sh (uses 18443 to 18446)"
  fi
done
if ! mvn -B -ntp -q -DskipTests package >"$work/build.log" 2>&1; then
  tail -n 40 "$work/build.log" >&2
  fail "the build failed"
fi
echo "built manager/target/tether-manager.jar and delegate/target/tether-delegate.jar"

step "Starting the manager: delegates on 127.0.0.1:$port, admin API on 127.0.0.1:$admin_port, metrics on 127.0.0.1:$ops_port, web console on 127.0.0.1:$console_port (embedded H2 and TLS certificate in $work/data)"
scripts/tether-manager serve --listen "127.0.0.1:$port" --admin-listen "127.0.0.1:$admin_port" \
  --ops-listen "127.0.0.1:$ops_port" --console-listen "127.0.0.1:$console_port" \
  --data-dir "$work/data" >"$work/manager.out" 2>"$work/manager.log" &
manager_pid=$!
manager_started() {
  if ! kill -0 "$manager_pid" 2>/dev/null; then
    grep -h '^error' "$work/manager.log" "$work/manager.out" >&2 || tail -n 5 "$work/manager.log" >&2
    fail "the manager exited during start-up (its error is above)"
  fi
  grep -q 'admin key' "$work/manager.out"
}
for _ in $(seq 1 300); do manager_started && break; sleep 0.2; done
manager_started || fail "timed out after 60s waiting for the manager to start"
sed 's/^/  /' "$work/manager.out"
wait_for 30 "the admin API" manager account list

step "Creating an account (its 'default' token is created with it)"
account="$(manager account create demo --field account.id)" || fail "account create failed"
[ -n "$account" ] || fail "no account id in the answer"
echo "account 'demo' has ACCOUNT_ID $account"

step "Creating a named token 'builders' (the value is shown once; here it goes to a 0600 file)"
manager token create --account "$account" --name builders --json >"$work/token.json" || fail "token create failed"
umask 077
json_field value <"$work/token.json" >"$work/builders.token"
token_id="$(json_field token_id <"$work/token.json")"
echo "token 'builders' created: public id $token_id, value in $work/builders.token"
manager token list --account "$account"

step "Starting three delegates: two with DELEGATE_TOKEN, one with DELEGATE_TOKEN_FILE"
for name in builder-1 builder-2; do
  ACCOUNT_ID="$account" DELEGATE_TOKEN="$(cat "$work/builders.token")" MANAGER_HOST_AND_PORT="https://127.0.0.1:$port" \
    DELEGATE_NAME="$name" DELEGATE_TAGS="demo,linux" HOSTNAME="$name-host" \
    scripts/tether-delegate >"$work/$name.out" 2>"$work/$name.log" &
  pids+=($!)
done
ACCOUNT_ID="$account" DELEGATE_TOKEN_FILE="$work/builders.token" MANAGER_HOST_AND_PORT="https://127.0.0.1:$port" \
  DELEGATE_NAME=builder-3 DELEGATE_TAGS=demo HOSTNAME=builder-3-host \
  scripts/tether-delegate >"$work/builder-3.out" 2>"$work/builder-3.log" &
file_delegate=$!
pids+=("$file_delegate")
wait_for 60 "three delegates to connect" has_connected 3
manager delegate list --account "$account"

step "Revoking token 'builders': every delegate using it is cut before the command returns"
manager token revoke --account "$account" --name builders || fail "token revoke failed"

step "Delegates with a fixed token exit with code 78; the one with a token file waits for a new token"
for i in 0 1; do
  status=0
  wait "${pids[$i]}" || status=$?
  [ "$status" -eq 78 ] || fail "builder-$((i + 1)) exited with $status, expected 78"
  echo "builder-$((i + 1)) exit code $status: $(grep 'exiting' "$work/builder-$((i + 1)).log" | sed 's/^tether-delegate //')"
done
pids=("$file_delegate")
wait_for 30 "the revocation to show" has_connected 0
grep -m1 'waiting for' "$work/builder-3.log" | sed 's/^.* - /builder-3: /'
manager delegate list --account "$account"

step "Rotating: a new token 'builders-v2' written into builder-3's token file, no restart"
manager token create --account "$account" --name builders-v2 --field value >"$work/builders.token.new"
mv "$work/builders.token.new" "$work/builders.token"
wait_for 30 "builder-3 to reconnect with the new token" has_connected 1
manager delegate list --account "$account"

step "Metrics: a few of what the manager counted (http://127.0.0.1:$ops_port/metrics; /healthz, /readyz)"
if command -v curl >/dev/null; then
  curl -fsS "http://127.0.0.1:$ops_port/metrics" | grep -E '^tether_(handshakes_total[{]outcome="accepted"|heartbeats_total|revocations_total[{]cause="revoke"|streams_closed_by_revocation_total|delegates_connected)' \
    || fail "the manager's /metrics did not answer"
  echo "readyz: $(curl -fsS "http://127.0.0.1:$ops_port/readyz")"
else
  echo "(curl is not installed: skipped)"
fi

step "Audit trail"
manager audit list --account "$account"

step "Web console (https://127.0.0.1:$console_port): 'console login' prints a one-time sign-in link"
link="$(manager console login 2>/dev/null)" || fail "console login failed"
echo "${link%%#*}#login=... (valid 5 minutes, once; this manager stops in a moment: run your own and open its link)"
if command -v curl >/dev/null; then
  # the manager's certificate is self-signed: trust it for this one request
  page="$(curl -fsS --cacert "$work/data/tls/manager.crt" "https://127.0.0.1:$console_port/")" \
    || fail "the web console did not answer"
  case "$page" in *'<title>'*) ;; *) fail "the web console answered without its page" ;; esac
  echo "the console page answers (docs/console.md: the pages, and how to trust the manager's certificate)"
fi

step "Stopping builder-3 with SIGTERM (exit 0) and the manager"
kill -TERM "$file_delegate"
status=0
wait "$file_delegate" || status=$?
[ "$status" -eq 0 ] || fail "builder-3 exited with $status after SIGTERM, expected 0"
echo "builder-3 exit code 0: $(grep 'exiting' "$work/builder-3.log" | sed 's/^tether-delegate //')"
pids=()
kill -TERM "$manager_pid"
wait "$manager_pid" || true
manager_pid=""
tail -n 1 "$work/manager.out"

printf '\n\033[1mquickstart OK\033[0m: delegates connected, were cut at once by revocation, and one came back on a rotated token.\n'
