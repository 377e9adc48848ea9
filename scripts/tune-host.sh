#!/usr/bin/env bash
# Host-side kernel settings for running the price service (and its Redis) under many connections: the ones
# a container cannot set for itself. docker-compose.tuning.yml sets the per-container ones
# (net.core.somaxconn, net.ipv4.tcp_max_syn_backlog in the container's network namespace, ulimit nofile).
#
#   bash scripts/tune-host.sh              # print each setting: current value, target, what would change
#   sudo bash scripts/tune-host.sh --apply # apply them now (sysctl -w); nothing is made permanent
#   sudo bash scripts/tune-host.sh --apply --persist   # also write /etc/sysctl.d/90-eth-usdt-price.conf
#
# A value already at or above its target is left alone (never lowered). Why each one: docs/deployment.md.
set -euo pipefail

apply=false
persist=false
for arg in "$@"; do
  case "$arg" in
    --apply) apply=true ;;
    --persist) persist=true ;;
    -h | --help)
      sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "tune-host: unknown argument $arg (use --apply, --persist, --help)" >&2
      exit 2
      ;;
  esac
done
if $persist && ! $apply; then
  echo "tune-host: --persist needs --apply" >&2
  exit 2
fi
if $apply && [ "$(id -u)" -ne 0 ]; then
  echo "tune-host: --apply needs root (sudo)" >&2
  exit 2
fi

SYSCTL_CONF="${SYSCTL_CONF:-/etc/sysctl.d/90-eth-usdt-price.conf}"
# name | target | why. Minimums: a larger current value is kept.
SETTINGS=(
  "fs.file-max|2097152|open files, whole host: every connection is a file descriptor (per container: ulimits.nofile)"
  "fs.nr_open|1048576|the highest ulimit -n a process may be given (must be >= the containers' nofile hard limit)"
  "net.core.somaxconn|4096|accept queue cap for services on the host network (containers have their own)"
  "net.core.netdev_max_backlog|16384|packets queued per CPU before the kernel drops them under bursts"
  "net.netfilter.nf_conntrack_max|262144|published ports go through NAT: a full conntrack table drops new connections"
  "net.ipv4.ip_local_port_range|10240 65535|outgoing ports for host-network clients (load generators, proxies); starts above the stack's ports (8000, 8001, 6379, 9090...)"
)

changes=0
persisted=()
printf '%-30s %-14s %-14s %s\n' setting current target action
for entry in "${SETTINGS[@]}"; do
  IFS='|' read -r name target why <<<"$entry"
  path="/proc/sys/${name//.//}"
  if [ ! -r "$path" ]; then
    printf '%-30s %-14s %-14s %s\n' "$name" '-' "$target" 'not on this kernel: skipped'
    continue
  fi
  current="$(tr -s '[:space:]' ' ' <"$path" | sed 's/ $//')"
  # Compare the last number (the upper end for a range); a larger current value is kept.
  cur_last="${current##* }"
  tgt_last="${target##* }"
  first_cur="${current%% *}"
  first_tgt="${target%% *}"
  if [ "$name" = "net.ipv4.ip_local_port_range" ]; then
    ok=$([ "$first_cur" -le "$first_tgt" ] && [ "$cur_last" -ge "$tgt_last" ] && echo yes || echo no)
  else
    ok=$([ "$cur_last" -ge "$tgt_last" ] && echo yes || echo no)
  fi
  if [ "$ok" = yes ]; then
    printf '%-30s %-14s %-14s %s\n' "$name" "$current" "$target" 'ok'
    continue
  fi
  changes=$((changes + 1))
  if $apply; then
    sysctl -q -w "$name=$target" >/dev/null
    printf '%-30s %-14s %-14s %s\n' "$name" "$current" "$target" 'applied'
    persisted+=("# $why" "$name = $target")
  else
    printf '%-30s %-14s %-14s %s\n' "$name" "$current" "$target" "would set ($why)"
  fi
done

if $apply && $persist && [ ${#persisted[@]} -gt 0 ]; then
  {
    echo "# Written by scripts/tune-host.sh (eth-usdt-price-service). See docs/deployment.md."
    printf '%s\n' "${persisted[@]}"
  } >"$SYSCTL_CONF"
  echo "tune-host: wrote $SYSCTL_CONF"
fi
if ! $apply && [ "$changes" -gt 0 ]; then
  echo "tune-host: $changes setting(s) would change; run with --apply (as root) to apply them"
fi
