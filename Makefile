# Every target runs on Node 24 LTS. Where the system node is older than 22, Node 24 is installed from the
# npm registry into .tools/ (ignored by git) and put first on PATH for every recipe.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NODE_MIN_MAJOR := 22
TOOLS_DIR := $(CURDIR)/.tools
SYSTEM_NODE_MAJOR := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)

ifeq ($(shell test $(SYSTEM_NODE_MAJOR) -ge $(NODE_MIN_MAJOR) && echo yes),yes)
NODE_BOOTSTRAP :=
else
NODE_BOOTSTRAP := $(TOOLS_DIR)/node_modules/.bin/node
export PATH := $(TOOLS_DIR)/node_modules/.bin:$(PATH)
endif

DEPS_STAMP := node_modules/.install-stamp
BUILD_STAMP := dist/.build-stamp
# Not named SOURCES: that is one of the service's settings, and a make variable of the same name would
# overwrite the user's SOURCES in the environment of every recipe.
TS_FILES := $(shell find service/src service/test/chaos service/bench mock-exchange/src scripts loadtest/src monitoring/slo monitoring/alerts -name '*.ts' 2>/dev/null) tsconfig.json tsconfig.build.json tsconfig.tools.json

.PHONY: help install build run dev test test-unit test-load test-load-full lint format clean node bench \
	monitoring-up monitoring-down monitoring-test up down dev-up k8s-render test-chaos test-containers test-interop \
	generate check-generated

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(TOOLS_DIR)/node_modules/.bin/node:
	@echo "system node is $(SYSTEM_NODE_MAJOR).x (< $(NODE_MIN_MAJOR)): installing Node 24 LTS into .tools/"
	@mkdir -p $(TOOLS_DIR)
	@[ -f $(TOOLS_DIR)/package.json ] || echo '{ "name": "tools", "private": true }' > $(TOOLS_DIR)/package.json
	@cd $(TOOLS_DIR) && npm install --no-audit --no-fund --loglevel=error node@24
	@$@ --version

node: $(NODE_BOOTSTRAP) ## show the node that every target uses
	@echo "node $$(node --version) at $$(command -v node)"

$(DEPS_STAMP): package.json package-lock.json | $(NODE_BOOTSTRAP)
	npm ci --no-audit --no-fund
	@touch $@

install: $(DEPS_STAMP) ## install dependencies (npm ci) and, if needed, Node 24

# Two builds into dist/: the service (the production image compiles only this one) and the tools that
# make targets run from dist/ (mock exchange, bench, chaos, load test runner, container checks).
# dist/ is emptied first: a module that moved (config.ts became config/) must not leave its old output to be
# resolved in its place.
$(BUILD_STAMP): $(DEPS_STAMP) $(TS_FILES)
	rm -rf dist
	npx tsc -p tsconfig.build.json
	npx tsc -p tsconfig.tools.json
	@touch $@

build: $(BUILD_STAMP) ## compile TypeScript to dist/ (the service, then the tools)

run: $(BUILD_STAMP) ## start the service in the foreground against the real exchanges (L1 only unless REDIS_URL is set)
	exec node $(if $(wildcard .env),--env-file=.env) dist/service/src/main.js

dev: $(BUILD_STAMP) ## start the mock exchange and the service wired to it (:8000 API, :8001 metrics); Ctrl-C stops both
	exec bash scripts/dev.sh

test: $(BUILD_STAMP) ## run every test (unit, integration with real Redis and the mock exchange, cluster)
	npx jest --ci

test-unit: $(DEPS_STAMP) ## run the unit tests only
	npx jest --ci service/test/unit mock-exchange/test

lint: $(DEPS_STAMP) check-generated ## type-check, eslint, prettier --check, layer rules, generated files up to date
	npx tsc --noEmit -p tsconfig.json
	npx eslint .
	npx prettier --check .
	npx depcruise service/src mock-exchange/src --config .dependency-cruiser.js

# Generated files: each generator writes its outputs, or with --check writes nothing and exits 1 naming each
# stale file. One block per generator, so that merges stay easy.
generate: $(DEPS_STAMP) ## rewrite every generated file from its source (rules, PrometheusRule, dashboards, settings tables, .env.example, k8s config, version copies)
# monitoring: Prometheus rule files + PrometheusRule (RUNBOOK_URL_BASE sets the runbook links), dashboards
	npx tsx monitoring/alerts/render-rule-files.ts
	npx tsx monitoring/grafana/src/render-dashboards.ts
# interop: the HEAD and 405 operations of service/openapi.json, from the route table
	npx tsx service/test/interop/render-openapi-methods.ts

check-generated: $(DEPS_STAMP) ## fail if a committed generated file differs from what its generator renders
# monitoring
	npx tsx monitoring/alerts/render-rule-files.ts --check
	npx tsx monitoring/grafana/src/render-dashboards.ts --check
# interop
	npx tsx service/test/interop/render-openapi-methods.ts --check

format: $(DEPS_STAMP) ## rewrite files with prettier and eslint --fix
	npx prettier --write .
	npx eslint --fix .

# The settings table's copies (README, .env.example, k8s/base/config.env) and package.json's version copies
# (OpenAPI info.version, k8s labels), from service/src/config/settings/ and package.json.
.PHONY: generate-settings check-generated-settings
generate: generate-settings
check-generated: check-generated-settings
generate-settings: $(DEPS_STAMP)
	npx tsx scripts/generate-settings.ts
check-generated-settings: $(DEPS_STAMP)
	npx tsx scripts/generate-settings.ts --check

bench: $(BUILD_STAMP) ## benchmark the service against a bare node:http cluster, side by side (needs wrk, redis-server)
	@command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk"; exit 2; }
	node dist/service/bench/bench.js

# Artillery lives in loadtest/ with its own lockfile, installed on first use: never part of the service's npm ci.
LOADTEST_STAMP := loadtest/node_modules/.install-stamp
$(LOADTEST_STAMP): loadtest/package.json loadtest/package-lock.json | $(NODE_BOOTSTRAP)
	cd loadtest && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

test-load: $(BUILD_STAMP) $(LOADTEST_STAMP) ## the CI load gate: smoke + steady against the service in production shape, then the gate's own failure tests
	node dist/loadtest/src/run.js --suite short --self-test

test-load-full: $(BUILD_STAMP) $(LOADTEST_STAMP) ## every load scenario: smoke, steady, spike, degraded upstream, cold start, soak (about 15 min)
	node dist/loadtest/src/run.js --suite full

# interop: Prism and redocly (heavy CLIs) live in service/test/interop/tools/ with their own lockfile, installed
# on first use like Artillery; the tests that need them skip in make test until then.
INTEROP_TOOLS_STAMP := service/test/interop/tools/node_modules/.install-stamp
$(INTEROP_TOOLS_STAMP): service/test/interop/tools/package.json service/test/interop/tools/package-lock.json | $(NODE_BOOTSTRAP)
	cd service/test/interop/tools && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

test-interop: $(BUILD_STAMP) $(INTEROP_TOOLS_STAMP) ## Prism and redocly over the OpenAPI document (installs them on first use; nginx, promtool and eventsource run in make test)
	npx jest --ci service/test/interop/openapi-validators.test.ts

test-chaos: $(BUILD_STAMP) ## the chaos suite: two replicas, Redis and the mock exchange under load, one fault at a time (about 5 min; needs redis-server, prometheus)
	node dist/service/test/chaos/run.js

OVERLAY ?= production

test-containers: $(BUILD_STAMP) ## the images and compose stacks for real on a Docker Engine (installed and started when missing), then the Redis suites through Testcontainers
	bash scripts/containers/test-containers.sh

up: ## service + Redis in containers, hardened (API :8000, metrics :8001; needs Docker)
	docker compose up -d --build --wait

down: ## stop the container stacks (make up, make dev-up) and remove their containers, networks and anonymous volumes
	docker compose down --remove-orphans --volumes
	docker compose -f docker-compose.dev.yml down --remove-orphans --volumes

dev-up: ## hot reload in containers: mock exchange :9099, Redis, API :8000, metrics :8001 (needs Docker)
	docker compose -f docker-compose.dev.yml up --build

k8s-render: $(NODE_BOOTSTRAP) ## print the rendered manifests of k8s/overlays/$(OVERLAY) (production or dev); no cluster needed
	@kubectl="$$(bash scripts/fetch-kubectl.sh)" && "$$kubectl" kustomize k8s/overlays/$(OVERLAY)

COMPOSE_MONITORING := docker compose -f docker-compose.yml -f docker-compose.monitoring.yml

monitoring-up: ## service + Redis + Prometheus :9090, Alertmanager :9093, Grafana :3000, Loki :3100, Tempo (needs Docker)
	$(COMPOSE_MONITORING) up -d --build --wait
	@echo "Grafana: http://localhost:3000 (admin / $${GF_SECURITY_ADMIN_PASSWORD:-admin}); Prometheus: http://localhost:9090"

monitoring-down: ## stop the monitoring stack (data volumes are kept)
	$(COMPOSE_MONITORING) down --remove-orphans

monitoring-test: $(BUILD_STAMP) ## the monitoring tests only (promtool, amtool, dashboards, live scrape and alert)
	npx jest --ci monitoring/test

clean: ## remove build output
	rm -rf dist coverage
