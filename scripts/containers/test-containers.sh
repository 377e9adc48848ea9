#!/usr/bin/env bash
# make test-containers: the images and compose stacks for real on a Docker Engine, then the Redis
# integration suites through Testcontainers. On a machine without an engine it installs and starts one, and
# stops only what it started; with no image registry it builds labelled stand-ins of the base images.
# What each step checks and the figures: docs/deployment.md, "Testing the containers".
set -euo pipefail
cd "$(dirname "$0")/../.."

started=$(date +%s)
step() { echo "[test-containers] $* (+$(($(date +%s) - started)) s)" >&2; }

# Stop at the end only an engine this run started: one that already answered is someone else's.
engine_was_running=false
timeout 10 docker info >/dev/null 2>&1 && engine_was_running=true
bash scripts/containers/engine.sh start
$engine_was_running || trap 'bash scripts/containers/engine.sh stop' EXIT
step "engine ready"
bash scripts/containers/base-images.sh all
step "base images ready"

status=0
node dist/scripts/containers/run.js || status=1
step "container checks done"

# The suites that take their Redis from service/test/helpers/redis.ts, now through Testcontainers on this
# engine (the image present locally, no reaper); `make test` runs them with redis-server processes.
REDIS_TEST_RUNTIME=testcontainers npx jest --ci \
  service/test/integration/redis-l2.test.ts \
  service/test/integration/rate-limit.test.ts \
  monitoring/test/live-metrics.test.ts || status=1
leftover="$(docker ps -aq --filter ancestor=redis:7.4-alpine)"
if [ -n "$leftover" ]; then
  echo "[test-containers] Redis containers left behind by the Testcontainers suites: $leftover" >&2
  docker rm -f $leftover >/dev/null
  status=1
fi
step "Testcontainers suites done"
exit $status
