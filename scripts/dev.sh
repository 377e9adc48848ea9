#!/usr/bin/env bash
# make dev: the mock exchange and the service wired to it, in the foreground. One Ctrl-C (or SIGTERM)
# stops both. Uses REDIS_URL when set; otherwise L1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

MOCK_PORT="${MOCK_EXCHANGE_PORT:-9099}"
export MOCK_EXCHANGE_URL="http://127.0.0.1:${MOCK_PORT}"
# PORT, METRICS_PORT and WORKERS are left to the environment, then .env, then the service's defaults.

MOCK_EXCHANGE_PORT="$MOCK_PORT" node dist/mock-exchange/src/main.js &
mock_pid=$!
service_pid=""

stop() {
  trap - INT TERM EXIT
  [ -n "$service_pid" ] && kill -TERM "$service_pid" 2>/dev/null || true
  kill -TERM "$mock_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

for _ in $(seq 1 50); do
  curl -fsS "${MOCK_EXCHANGE_URL}/__control/health" >/dev/null 2>&1 && break
  sleep 0.1
done

echo "dev: mock exchange on ${MOCK_EXCHANGE_URL} (faults: see mock-exchange/README.md)" >&2
echo "dev: price API on http://localhost:${PORT:-8000}/api/v1/prices/eth-usdt, metrics on http://localhost:${METRICS_PORT:-8001}/metrics" >&2
env_file=()
[ -f .env ] && env_file=(--env-file=.env)
node "${env_file[@]}" dist/service/src/main.js &
service_pid=$!
# Whichever exits first ends the session.
wait -n "$mock_pid" "$service_pid" || true
