#!/bin/sh
# Runs Tether delegate @@DELEGATE_NAME@@ (account @@ACCOUNT_ID@@, token '@@TOKEN_NAME@@') in Docker.
# Usage: ./docker-run.sh [--replace] [--image IMAGE]
#   --replace      stop and remove an existing container of this name first (as docker-upgrade.sh does)
#   --image IMAGE  run IMAGE instead of @@IMAGE_SHELL@@
# The token is not in this script: it is read from secrets/delegate-token. The container runs as
# the image's user, UID and GID 10001, never as the caller (under sudo that would be root), so the
# secrets directory must belong to 10001: run this script with sudo once and it gives it to 10001
# (chown), or do it yourself: sudo chown -R 10001:10001 secrets.
# The directory is mounted "@@DOCKER_TOKEN_MOUNT@@". Read-write ("rw") while rotation is enabled, the
# default: the delegate keeps a token the manager pushes (tether-manager token rotate) by writing
# a new file in that directory and renaming it over delegate-token; the rest of the container's
# filesystem stays read-only. Read-only ("ro") when install-files was given --no-rotation.
# To rotate by hand, replace secrets/delegate-token (owned by 10001, mode 0600, or 0400 with --no-rotation):
# the delegate reloads it.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
name=@@DELEGATE_NAME_SHELL@@
image=@@IMAGE_SHELL@@
# the image's user (scripts/docker/Dockerfile: USER 10001:10001)
uid=10001
# whether the delegate may replace its token file (install-files without --no-rotation)
rotation=@@DOCKER_ROTATION@@
replace=false
while [ "$#" -gt 0 ]; do
  case "$1" in
    --replace) replace=true; shift ;;
    --image)
      if [ "$#" -lt 2 ] || [ -z "$2" ]; then
        echo "docker-run.sh: --image needs a value (expected an image reference such as tether-delegate:0.2.0)" >&2
        exit 2
      fi
      image=$2; shift 2 ;;
    *)
      echo "docker-run.sh: unknown argument '$1' (expected --replace or --image IMAGE)" >&2
      exit 2 ;;
  esac
done

secrets="$dir/secrets"
if [ "$(id -u)" -eq 0 ]; then
  if [ ! -f "$secrets/delegate-token" ]; then
    echo "docker-run.sh: $secrets/delegate-token is missing (expected the token file install-files wrote)" >&2
    exit 1
  fi
  # the container's user's alone; with rotation the file stays writable by it, as the delegate
  # refuses to replace a file that has no write permission (an operator's read-only choice); the
  # host's root can still replace the file for a rotation by hand
  chown -R "$uid:$uid" "$secrets"
  chmod 0700 "$secrets"
  if [ "$rotation" = true ]; then
    chmod 0600 "$secrets/delegate-token"
  else
    chmod 0400 "$secrets/delegate-token"
  fi
elif [ -z "$(find "$secrets" -prune -user "$uid" 2>/dev/null)" ]; then
  echo "docker-run.sh: $secrets does not belong to UID $uid, the delegate image's user, so the container" \
    "could not read the token. Run this script with sudo once (it runs chown), or: sudo chown -R $uid:$uid '$secrets'" >&2
  exit 1
elif [ "$rotation" = true ] && [ -z "$(find "$secrets" -prune -perm -u=w 2>/dev/null)" ]; then
  echo "docker-run.sh: $secrets is not writable by UID $uid, so the delegate could not keep a token the manager" \
    "pushes (rotation is enabled). Run this script with sudo once (it runs chmod), or: sudo chmod 0700 '$secrets'" >&2
  exit 1
fi

if docker container inspect "$name" >/dev/null 2>&1; then
  if [ "$replace" != true ]; then
    echo "docker-run.sh: a container named '$name' already exists; nothing was started. Stop and remove it with" \
      "./docker-stop.sh, replace it with ./docker-run.sh --replace, or move to a new image with ./docker-upgrade.sh IMAGE" >&2
    exit 1
  fi
  echo "docker-run.sh: replacing container '$name'"
  # SIGTERM, then up to 30 s for the delegate to say goodbye to the manager
  docker stop --time 30 "$name" >/dev/null
  docker rm "$name" >/dev/null
fi

# Hardening: the image's user, a read-only root filesystem with a small tmpfs for the JVM's /tmp
# (no exec: the delegate loads no native library), no capabilities, no privilege
# gain through setuid, bounded memory and processes. The heap is 75% of --memory
# (JAVA_TOOL_OPTIONS in the image): 288 MiB of 384 MiB, the limit the Kubernetes manifest sets.
# The health check asks the ops listener's /readyz on loopback: healthy while registered with
# the manager and heartbeating. Docker only reports it (docker ps); it restarts nothing.
docker run --detach --name "$name" --restart unless-stopped \
  --user "$uid:$uid" \
  --read-only \
  --tmpfs /tmp:rw,noexec,nosuid,nodev,size=16m,mode=1777 \
  --cap-drop ALL \
  --security-opt no-new-privileges \
  --memory 384m --memory-swap 384m \
  --pids-limit 256 \
  --stop-timeout 30 \
  --health-cmd 'curl --fail --silent --show-error --max-time 4 --output /dev/null http://127.0.0.1:9465/readyz' \
  --health-interval 30s --health-timeout 5s --health-start-period 30s --health-retries 3 \
  --env ACCOUNT_ID=@@ACCOUNT_ID_SHELL@@ \
  --env MANAGER_HOST_AND_PORT=@@MANAGER_URL_SHELL@@ \
  --env DELEGATE_NAME=@@DELEGATE_NAME_SHELL@@ \
  --env DELEGATE_TYPE=DOCKER \
  --env DELEGATE_TOKEN_FILE=/run/secrets/tether/delegate-token \
  --env DELEGATE_OPS_LISTEN=127.0.0.1:9465 \
  --env "JAVA_TOOL_OPTIONS=-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError" \
  --volume "$secrets:/run/secrets/tether:@@DOCKER_TOKEN_MOUNT@@" \
  "$image"
echo "docker-run.sh: started '$name' from $image; 'docker ps' shows it healthy once it has registered with the manager," \
  "'docker logs $name' shows its log"
