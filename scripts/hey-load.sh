#!/usr/bin/env bash
# The seed's load commands against a service that is already running (make run, make dev, make up): starts
# nothing itself. Runs hey and prints a short summary; exits 1 if any request failed or answered 5xx.
#
#   scripts/hey-load.sh                       # hey -n 10000 -c 300 http://localhost:8000/api/v1/prices/eth-usdt
#   scripts/hey-load.sh -z 60s                # hey -z 60s -c 300 ... (for a duration instead of a count)
#   scripts/hey-load.sh -n 2000 -c 50 URL     # any count, concurrency and URL
#
# For SLO gates with scenarios, a report and the server's own p99 beside the client's: make test-load.
set -euo pipefail

requests=10000
duration=""
connections=300
url="http://localhost:${PORT:-8000}/api/v1/prices/eth-usdt"
usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    -n) requests="${2:?-n needs a count}"; duration=""; shift 2 ;;
    -z) duration="${2:?-z needs a duration such as 60s}"; shift 2 ;;
    -c) connections="${2:?-c needs a number}"; shift 2 ;;
    -h | --help) usage ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *) url="$1"; shift ;;
  esac
done

command -v hey >/dev/null || { echo "hey is not installed: apt-get install -y hey" >&2; exit 2; }
if ! curl -sS -o /dev/null --max-time 5 "$url"; then
  echo "nothing answers at $url: start the service first (make run, make dev or make up)" >&2
  exit 2
fi

if [ -n "$duration" ]; then load=(-z "$duration"); what="for $duration"; else load=(-n "$requests"); what="$requests requests"; fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "hey ${load[*]} -c $connections $url" >&2
hey "${load[@]}" -c "$connections" "$url" >"$out"

awk -v what="$what" -v c="$connections" '
  /Requests\/sec:/ { rps = $2 }
  /Total:/ && !total { total = $2 }
  /% in / { sub("%", "", $1); lat[$1] = $3 * 1000 }
  /^Status code distribution:/ { section = "codes"; next }
  /^Error distribution:/ { section = "errors"; next }
  section == "codes" && /^ *\[[0-9]+\]/ {
    code = $1; gsub(/[\[\]]/, "", code); codes = codes sprintf("%s %s, ", code, $2); sent += $2
    if (code >= 500) fivexx += $2
  }
  section == "errors" && /^ *\[[0-9]+\]/ { n = $1; gsub(/[\[\]]/, "", n); errors += n }
  END {
    sub(/, $/, "", codes)
    printf "hey: %s over %s connections in %.1f s: %.0f req/s; latency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms\n",
      what, c, total, rps, lat[50], lat[90], lat[99]
    printf "responses: %s; 5xx: %d; failed requests (connection errors, timeouts): %d\n", codes, fivexx, errors
    exit (fivexx > 0 || errors > 0) ? 1 : 0
  }' "$out"
