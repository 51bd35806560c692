#!/bin/sh
# Moves Tether delegate @@DELEGATE_NAME@@ to another image: pulls it (a locally built image that no
# registry has is used as it is), then replaces the running container with one from that image,
# with the same settings and token file (./docker-run.sh --replace --image IMAGE).
# Usage: ./docker-upgrade.sh IMAGE      for example ./docker-upgrade.sh @@IMAGE_SHELL@@
# The delegate is away for the seconds between the old container's goodbye and the new one's
# handshake; two containers of one delegate name never run at once.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
if [ "$#" -ne 1 ] || [ -z "$1" ]; then
  echo "docker-upgrade.sh: expected one argument, the image to move to (for example @@IMAGE_SHELL@@)" >&2
  exit 2
fi
image=$1
if ! docker pull "$image"; then
  if ! docker image inspect "$image" >/dev/null 2>&1; then
    echo "docker-upgrade.sh: image '$image' could not be pulled and is not on this host; nothing was changed" >&2
    exit 1
  fi
  echo "docker-upgrade.sh: could not pull '$image'; using the image already on this host"
fi
"$dir/docker-run.sh" --replace --image "$image"
echo "docker-upgrade.sh: docker-run.sh still names its own image; run it with --image '$image' from now on," \
  "or edit its image= line"
