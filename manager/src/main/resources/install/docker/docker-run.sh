#!/bin/sh
# Runs Tether delegate @@DELEGATE_NAME@@ (account @@ACCOUNT_ID@@, token '@@TOKEN_NAME@@') in Docker.
# The token is not in this script: it is read from secrets/delegate-token, mounted read-only.
# To rotate, write the new token into secrets/delegate-token: the delegate reloads it.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
if [ ! -r "$dir/secrets/delegate-token" ]; then
  echo "docker-run.sh: $dir/secrets/delegate-token is missing or unreadable" >&2
  exit 1
fi
docker run --detach --name @@DELEGATE_NAME@@ --restart unless-stopped \
  --user "$(id -u):$(id -g)" \
  --env ACCOUNT_ID=@@ACCOUNT_ID_SHELL@@ \
  --env MANAGER_HOST_AND_PORT=@@MANAGER_URL_SHELL@@ \
  --env DELEGATE_NAME=@@DELEGATE_NAME_SHELL@@ \
  --env DELEGATE_TYPE=DOCKER \
  --env DELEGATE_TOKEN_FILE=/run/secrets/tether/delegate-token \
  --volume "$dir/secrets:/run/secrets/tether:ro" \
  @@IMAGE_SHELL@@
