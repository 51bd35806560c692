#!/bin/sh
# Stops and removes the container of Tether delegate @@DELEGATE_NAME@@. The delegate gets SIGTERM,
# says goodbye to the manager and exits 0; after 30 s Docker kills it. The token file in secrets/
# is kept, so ./docker-run.sh starts it again.
set -eu
name=@@DELEGATE_NAME_SHELL@@
if [ "$#" -gt 0 ]; then
  echo "docker-stop.sh: unexpected argument '$1' (it takes none)" >&2
  exit 2
fi
if ! docker container inspect "$name" >/dev/null 2>&1; then
  echo "docker-stop.sh: no container named '$name'; nothing to stop"
  exit 0
fi
docker stop --time 30 "$name" >/dev/null
docker rm "$name" >/dev/null
echo "docker-stop.sh: stopped and removed '$name'"
