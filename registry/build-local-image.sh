#!/bin/sh
# Builds a registry:2 stand-in from Debian's docker-registry binary (apt-get install docker-registry).
# Usage: registry/build-local-image.sh [TAG]   (default k3s-devreg-test/registry:2.8-debian)
set -eu
tag="${1:-k3s-devreg-test/registry:2.8-debian}"
binary=/usr/bin/docker-registry
[ -x "$binary" ] || { echo "error: $binary not found: apt-get install docker-registry" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
mkdir -p "$context/rootfs/bin" "$context/rootfs/etc/docker/registry" "$context/rootfs/var/lib/registry" "$context/rootfs/tmp"
cp "$binary" "$context/rootfs/bin/registry"
cp "$here/config.yml" "$context/rootfs/etc/docker/registry/config.yml"
# The binary links against libc; copy exactly what ldd lists, at the same paths.
for lib in $(ldd "$binary" | grep -o '/[^ ]*'); do
  mkdir -p "$context/rootfs$(dirname "$lib")"
  cp -L "$lib" "$context/rootfs$lib"
done
cp "$here/Dockerfile" "$context/Dockerfile"
docker build -q -t "$tag" "$context" >/dev/null
echo "$tag"
