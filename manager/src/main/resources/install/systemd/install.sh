#!/bin/sh
# Installs Tether delegate @@DELEGATE_NAME@@ as a systemd service (run as root).
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
install -d -m 0755 /etc/tether /opt/tether
install -m 0600 "$dir/delegate-token" /etc/tether/delegate-token
install -m 0644 "$dir/delegate.env" /etc/tether/delegate.env
install -m 0644 "$dir/tether-delegate.service" /etc/systemd/system/tether-delegate.service
if [ -f "$dir/tether-delegate.jar" ]; then
  install -m 0644 "$dir/tether-delegate.jar" /opt/tether/tether-delegate.jar
fi
systemctl daemon-reload
systemctl enable --now tether-delegate.service
echo "tether-delegate installed; check it with: systemctl status tether-delegate"
