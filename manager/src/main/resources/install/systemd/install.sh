#!/bin/sh
# Installs Tether delegate @@DELEGATE_NAME@@ as tether-delegate@@@DELEGATE_NAME@@.service, an instance of
# the template unit tether-delegate@.service, then waits until it is connected to the manager
# (TETHER_START_WAIT seconds, default 60). Run as root:
#   sudo ./install.sh [PATH/TO/tether-delegate.jar]
# The token moves to /etc/tether-delegate/@@DELEGATE_NAME@@.token (mode 0600): no copy stays here.
# Exit status: 0 connected; 1 nothing or not all was installed, or the delegate failed (its
# journal is shown); 2 installed and running, but not connected yet.
set -eu
name=@@DELEGATE_NAME_SHELL@@
dir=$(cd "$(dirname "$0")" && pwd -P)
etc=/etc/tether-delegate
installed_jar=/opt/tether/tether-delegate.jar
unit="tether-delegate@$name.service"
wait_seconds=${TETHER_START_WAIT:-60}

fail() {
  echo "install.sh: $*" >&2
  exit 1
}

case "$wait_seconds" in
  '' | *[!0-9]*) fail "TETHER_START_WAIT '$wait_seconds' is not a number of seconds (expected for example 60)" ;;
esac
if [ "$(id -u)" -ne 0 ]; then
  fail "run it as root (sudo $0): it writes $etc, /opt/tether and /etc/systemd/system; nothing was installed"
fi
command -v systemctl >/dev/null 2>&1 || fail "systemctl not found: this install needs systemd; nothing was installed"
command -v java >/dev/null 2>&1 || fail "java not found on PATH: install Java 17 or later; nothing was installed"

jar=${1:-$dir/tether-delegate.jar}
if [ -f "$jar" ]; then
  new_jar=$jar
elif [ $# -eq 0 ] && [ -f "$installed_jar" ]; then
  new_jar=""
  echo "using the delegate jar already installed at $installed_jar"
else
  fail "no delegate jar: '$jar' is not a file. Give its path (sudo $0 /path/to/tether-delegate.jar), or" \
    "generate these files with --delegate-jar; nothing was installed"
fi
if [ ! -f "$dir/delegate-token" ] && [ ! -f "$etc/$name.token" ]; then
  fail "no token: neither $dir/delegate-token nor $etc/$name.token exists (generate the files again with" \
    "'tether-manager delegate install-files'); nothing was installed"
fi

install -d -m 0755 -o root -g root "$etc" /opt/tether
if [ -n "$new_jar" ]; then
  install -m 0644 -o root -g root "$new_jar" "$installed_jar"
fi
install -m 0644 -o root -g root "$dir/delegate.env" "$etc/$name.env"
install -m 0644 -o root -g root "$dir/tether-delegate@.service" /etc/systemd/system/tether-delegate@.service
if [ -f "$dir/delegate-token" ]; then
  install -m 0600 -o root -g root "$dir/delegate-token" "$etc/$name.token"
  rm -f "$dir/delegate-token"
fi
systemctl daemon-reload
systemctl enable "$unit"
systemctl restart "$unit"

ticks=0
while :; do
  if [ -e "/run/tether-delegate/$name/ready" ]; then
    echo "tether-delegate $name installed and connected to the manager; see it with: systemctl status $unit"
    exit 0
  fi
  state=$(systemctl show --property=ActiveState --value "$unit")
  if [ "$state" = failed ] || [ "$state" = inactive ]; then
    echo "install.sh: $unit is installed but $state: the delegate stopped (exit code 78: its token is" \
      "malformed, revoked, expired or refused; 1: a configuration error). Its journal:" >&2
    journalctl --unit "$unit" --lines 20 --no-pager >&2 || true
    exit 1
  fi
  if [ "$ticks" -ge $((wait_seconds * 2)) ]; then
    echo "install.sh: $unit is installed and $state, but not connected to the manager within $wait_seconds s;" \
      "it keeps trying. Watch it with: journalctl --unit $unit --follow" >&2
    exit 2
  fi
  sleep 0.5
  ticks=$((ticks + 1))
done
