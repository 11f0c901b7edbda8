#!/usr/bin/env bash
# Fetches, once per run, every image the e2e clusters need, so that no k3s node pulls from Docker Hub
# (anonymous pulls: 10 an hour per IP address; each node of each cluster used to pull every image).
#
#   test/e2e/prepare-images.sh [DIR]      prepare DIR (default: $K3S_DEVREG_E2E_IMAGES)
#   test/e2e/prepare-images.sh --plan     print what it would fetch, and do nothing
#   test/e2e/prepare-images.sh --report [DIR]   Docker Hub's count of pulls left, then and now
#
# DIR/archives/ ends up holding only image archives: the e2e helpers link them into each cluster's
# state folder images/ (mounted at k3s's agent/images, imported by k3s when it starts). Never a .txt
# there: k3s treats a .txt in that folder as a list of images to PULL.
# - the k3s release's airgap archive (k3s's own system images), from GitHub's release downloads
#   (not Docker Hub), checked against the release's sha256sum file;
# - `docker save` of the images our pods and `verify` use (registry, busybox), pulled by the docker
#   daemon here unless it has them already.
# The node image (rancher/k3s) and k3d's helper images (ghcr.io, for $K3D_TAG or the installed k3d)
# are pulled into docker once; k3d pulls only an image docker does not have.
# Also written: DIR/preloaded.txt (every preloaded image, fully qualified), DIR/pulls.txt (what this
# script pulled, and from where), DIR/docker-images.txt (docker's images afterwards),
# DIR/hub-ratelimit-start.txt.
# Local use without the network: AIRGAP_DIR=folder holding k3s-airgap-images-ARCH.tar.zst and
# k3s-images.txt (as downloaded from the release) is used instead of downloading.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# One source for every image: the constants of src/ (and the example's base image).
constant() {
  local value
  value=$(sed -n "s/^export const $1 = '\([^']*\)';.*/\1/p" "$repo/$2")
  # Or another constant of the same file by name (DEFAULT_WRITER_IMAGE = DEFAULT_HOSTS_IMAGE).
  local alias
  alias=$(sed -n "s/^export const $1 = \([A-Z][A-Z0-9_]*\);.*/\1/p" "$repo/$2")
  [[ -n "$value" || -z "$alias" ]] || value=$(constant "$alias" "$2")
  [[ -n "$value" ]] || { echo "prepare-images: no $1 in $2" >&2; exit 1; }
  printf '%s\n' "$value"
}

k3s_image=${K3S_IMAGE:-$(constant DEFAULT_K3S_IMAGE src/spec.ts)}
k3s_tag=${k3s_image##*:}
# The image tag v1.31.5-k3s1 is the release v1.31.5+k3s1 (docker tags cannot hold '+').
k3s_release="${k3s_tag%-k3s*}+k3s${k3s_tag##*-k3s}"
example_base=$(sed -n 's/^ARG BASE=//p' "$repo/example/Dockerfile")
[[ -n "$example_base" ]] || { echo 'prepare-images: no ARG BASE= in example/Dockerfile' >&2; exit 1; }
mapfile -t pod_images < <(printf '%s\n' \
  "$(constant DEFAULT_REGISTRY_IMAGE src/spec.ts)" \
  "$(constant DEFAULT_HOSTS_IMAGE src/spec.ts)" \
  "$(constant DEFAULT_WRITER_IMAGE src/spec.ts)" \
  "$example_base" | sort -u)

case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "prepare-images: no k3s airgap archive for $(uname -m)" >&2; exit 1 ;;
esac
release_url="https://github.com/k3s-io/k3s/releases/download/${k3s_release//+/%2B}"
airgap="k3s-airgap-images-${arch}.tar.zst"

k3d_tag=${K3D_TAG:-}
if [[ -z "$k3d_tag" ]] && command -v k3d >/dev/null; then
  k3d_tag=$(k3d version | sed -n 's/^k3d version \(v[0-9.]*\).*/\1/p')
fi
# k3d tags its helper images with its own version, without the v (k3d-io/k3d pkg/types/images.go).
helper_images=()
[[ -n "$k3d_tag" ]] && helper_images=("ghcr.io/k3d-io/k3d-proxy:${k3d_tag#v}" "ghcr.io/k3d-io/k3d-tools:${k3d_tag#v}")
docker_images=("$k3s_image" "${pod_images[@]}" "${helper_images[@]}")

# docker.io/library/busybox:1.36.1 for busybox:1.36.1, as containerd names it.
qualified() {
  local name=$1 first=${1%%/*}
  if [[ "$name" != */* ]]; then name="docker.io/library/$name"
  elif [[ "$first" != *.* && "$first" != *:* && "$first" != localhost ]]; then name="docker.io/$name"; fi
  printf '%s\n' "$name"
}

# Docker Hub's own count of anonymous pulls left for this IP; asking does not use one up.
hub_ratelimit() {
  local token headers
  token=$(curl -fsS --max-time 20 'https://auth.docker.io/token?service=registry.docker.io&scope=repository:ratelimitpreview/test:pull' 2>/dev/null |
    sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p') || true
  [[ -n "$token" ]] || { echo 'unknown (no token from auth.docker.io)'; return; }
  headers=$(curl -fsSI --max-time 20 -H "Authorization: Bearer $token" https://registry-1.docker.io/v2/ratelimitpreview/test/manifests/latest 2>/dev/null) || true
  headers=$(printf '%s\n' "$headers" | tr -d '\r' | grep -i '^ratelimit-' | tr '\n' ' ') || true
  echo "${headers:-unknown (Docker Hub sent no ratelimit headers)}"
}

if [[ "${1:-}" == --plan ]]; then
  echo "k3s image: $k3s_image"
  echo "k3s release: $k3s_release"
  echo "airgap: $release_url/$airgap"
  for image in "${docker_images[@]}"; do echo "pull: $image ($(qualified "$image" | cut -d/ -f1))"; done
  echo "archive: k3s-devreg-pods.tar <- ${pod_images[*]}"
  exit 0
fi

if [[ "${1:-}" == --report ]]; then
  dir=${2:-${K3S_DEVREG_E2E_IMAGES:?give DIR or set K3S_DEVREG_E2E_IMAGES}}
  echo "Docker Hub pulls by this script: $(grep -c ' docker\.io$' "$dir/pulls.txt" 2>/dev/null || true)"
  echo "Docker Hub rate limit at the start: $(cat "$dir/hub-ratelimit-start.txt" 2>/dev/null || echo unknown)"
  echo "Docker Hub rate limit now:          $(hub_ratelimit)"
  echo '(remaining counts fall with every pull from this IP address, other jobs included)'
  exit 0
fi

dir=${1:-${K3S_DEVREG_E2E_IMAGES:?give DIR or set K3S_DEVREG_E2E_IMAGES}}
mkdir -p "$dir/archives"
dir=$(cd "$dir" && pwd)
hub_ratelimit >"$dir/hub-ratelimit-start.txt"
echo "Docker Hub rate limit before: $(cat "$dir/hub-ratelimit-start.txt")"
: >"$dir/pulls.txt"

for image in "${docker_images[@]}"; do
  if docker image inspect "$image" >/dev/null 2>&1; then
    echo "have $image"
  else
    echo "pull $image"
    docker pull --quiet "$image" >/dev/null
    echo "$image $(qualified "$image" | cut -d/ -f1)" >>"$dir/pulls.txt"
  fi
done

# With docker's containerd image store, `docker save` of a multi-platform image wants the platform
# (the other platforms' layers were never pulled); the classic store saves the one it has.
save_args=()
if docker info --format '{{json .DriverStatus}}' 2>/dev/null | grep -q io.containerd.snapshotter; then
  save_args=(--platform "linux/$arch")
fi
docker save "${save_args[@]}" --output "$dir/archives/.k3s-devreg-pods.tar.partial" "${pod_images[@]}"
mv "$dir/archives/.k3s-devreg-pods.tar.partial" "$dir/archives/k3s-devreg-pods.tar"

if [[ -n "${AIRGAP_DIR:-}" ]]; then
  cp "$AIRGAP_DIR/$airgap" "$dir/archives/.$airgap.partial"
  cp "$AIRGAP_DIR/k3s-images.txt" "$dir/k3s-images.txt"
  mv "$dir/archives/.$airgap.partial" "$dir/archives/$airgap"
else
  curl -fsSL --retry 3 -o "$dir/sha256sum-$arch.txt" "$release_url/sha256sum-$arch.txt"
  curl -fsSL --retry 3 -o "$dir/k3s-images.txt" "$release_url/k3s-images.txt"
  want=$(awk -v f="$airgap" '$2 == f { print $1 }' "$dir/sha256sum-$arch.txt")
  [[ -n "$want" ]] || { echo "prepare-images: sha256sum-$arch.txt of $k3s_release names no $airgap" >&2; exit 1; }
  # A second local run keeps an archive that is already the release's.
  if [[ "$(sha256sum "$dir/archives/$airgap" 2>/dev/null | cut -d' ' -f1)" != "$want" ]]; then
    curl -fsSL --retry 3 -o "$dir/archives/.$airgap.partial" "$release_url/$airgap"
    got=$(sha256sum "$dir/archives/.$airgap.partial" | cut -d' ' -f1)
    [[ "$got" == "$want" ]] || { echo "prepare-images: $airgap: sha256 $got, the release says $want" >&2; exit 1; }
    mv "$dir/archives/.$airgap.partial" "$dir/archives/$airgap"
  fi
fi

{
  for image in "${pod_images[@]}"; do qualified "$image"; done
  grep -v '^[[:space:]]*$' "$dir/k3s-images.txt"
} | sort -u >"$dir/preloaded.txt"
docker image ls --format '{{.Repository}}:{{.Tag}}' | sort -u >"$dir/docker-images.txt"

echo "Prepared $dir/archives:"
ls -l "$dir/archives"
echo "Preloaded into every node: $(wc -l <"$dir/preloaded.txt") images; pulled here: $(wc -l <"$dir/pulls.txt") ($(grep -c ' docker\.io$' "$dir/pulls.txt" || true) from Docker Hub)"
