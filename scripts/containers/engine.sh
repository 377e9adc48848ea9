#!/usr/bin/env bash
# A Docker Engine for the container tests, on a machine that may have none (Debian 12, root, no systemd).
#   engine.sh start   installs docker.io and Compose v2 when missing, starts dockerd when none answers
#   engine.sh stop    stops the dockerd that `start` started (never one that was already running)
#   engine.sh mirror  prints the machine's Debian mirror
# Facts behind each step: docs/deployment.md, "Testing the containers".
set -euo pipefail
cd "$(dirname "$0")/../.."

STATE_DIR="${CONTAINERS_STATE_DIR:-$PWD/.tools/containers}"
PID_FILE="$STATE_DIR/dockerd.pid"
mkdir -p "$STATE_DIR"
log() { echo "[engine] $*" >&2; }

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

install_engine() {
  command -v dockerd >/dev/null && return
  log "no dockerd: apt-get install docker.io (about 50 s the first time)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io iptables >/dev/null
}

# The machine's own Debian mirror (one-line or deb822 sources), for the fetches below and the stand-in images.
debian_mirror() {
  local found
  found="$({ cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true; } |
    grep -oE 'https?://[^ ]+/debian/?( |$)' | head -1 | tr -d ' ' || true)"
  echo "${found:-http://deb.debian.org/debian}"
}

# Compose v2 (the files use top-level `name:`, which Debian 12's docker-compose 1.29 rejects). Bookworm has no
# Compose v2 package; trixie's docker-compose .deb holds the static plugin. It is fetched with a private
# sources list so the machine's own apt sources stay untouched.
install_compose() {
  docker compose version >/dev/null 2>&1 && return
  local version=2.26.1-4 work="$STATE_DIR/compose-fetch"
  log "no Compose v2: fetching docker-compose $version from Debian trixie"
  rm -rf "$work" && mkdir -p "$work/lists/partial" "$work/archives"
  local mirror
  mirror="$(debian_mirror)"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" >"$work/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache::Archives=$work/archives")
  apt-get "${opts[@]}" update -qq
  (cd "$work" && apt-get "${opts[@]}" download "docker-compose=$version" >/dev/null)
  dpkg-deb -x "$work"/docker-compose_*.deb "$work/root"
  install -D -m 0755 "$work/root/usr/libexec/docker/cli-plugins/docker-compose" \
    /usr/local/lib/docker/cli-plugins/docker-compose
  rm -rf "$work"
  docker compose version >&2
}

start() {
  install_engine
  install_compose
  if engine_answers; then
    log "an engine already answers: using it (it will not be stopped)"
    return
  fi
  if [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
    log "dockerd $(cat "$PID_FILE") from an earlier run does not answer: stopping it first"
    stop
  fi
  log "starting dockerd (log: $STATE_DIR/dockerd.log)"
  # No systemd here: cgroupfs as the cgroup driver; overlay2 as the storage driver.
  setsid dockerd --exec-opt native.cgroupdriver=cgroupfs --storage-driver overlay2 \
    >"$STATE_DIR/dockerd.log" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  local deadline=$((SECONDS + 60))
  until engine_answers; do
    if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
      log "dockerd exited:" && tail -20 "$STATE_DIR/dockerd.log" >&2 && rm -f "$PID_FILE" && exit 1
    fi
    [ $SECONDS -lt $deadline ] || { log "dockerd did not answer within 60 s" && exit 1; }
    sleep 0.5
  done
  log "dockerd $(cat "$PID_FILE") answers: $(docker version --format '{{.Server.Version}}')"
}

stop() {
  [ -f "$PID_FILE" ] || return 0
  local pid
  pid="$(cat "$PID_FILE")"
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping dockerd $pid (the one this script started)"
    kill -TERM "$pid"
    # dockerd stops its containers (their own grace periods) and its containerd before it exits.
    local deadline=$((SECONDS + 60))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && { log "dockerd $pid still running after 60 s: SIGKILL" && kill -KILL "$pid"; }
  fi
  rm -f "$PID_FILE"
}

case "${1:-}" in
  start) start ;;
  mirror) debian_mirror ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2 && exit 2 ;;
esac
