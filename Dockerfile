# Multi-stage build on the official Node 24 image: compile TypeScript with every dependency, then run the
# compiled service with production dependencies only, as the unprivileged `node` user. The image holds what
# the service runs and nothing else: no test tools, mock exchange, dev dependencies or npm caches
# (`make test-containers` looks inside the built image for each). No `# syntax=` line: the classic builder
# and BuildKit both build it, and BuildKit fetches no frontend image from a registry.
# The runtime needs no writable path but /tmp: run it with a read-only root filesystem and a tmpfs there
# (docker-compose.yml: read_only + tmpfs; k8s/base: readOnlyRootFilesystem + an emptyDir at /tmp).
# Development image with hot reload: Dockerfile.dev (docker-compose.dev.yml).

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# The production build: service/src and openapi.json only (the tools: tsconfig.tools.json, outside the image).
RUN npx tsc -p tsconfig.build.json

FROM node:24-bookworm-slim AS runtime
# Set by the release build: docker build --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD)
# --build-arg CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ) .
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="eth-usdt-price-service" \
      org.opencontainers.image.description="ETH/USDT price service: clustered Express 5, median of six exchanges, Redis L2, Prometheus metrics" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="docker.io/library/node:24-bookworm-slim"
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# npm (Node >= 22) leaves its module compile cache in /tmp/node-compile-cache: not part of the image.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force && rm -rf /tmp/node-compile-cache /root/.npm
COPY --from=build /app/dist ./dist
USER node
# 8000: the API; 8001: Prometheus metrics (the cluster primary aggregates its workers).
EXPOSE 8000 8001
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 8000}/health/liveness`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
# Exec form: node is PID 1 and gets SIGTERM itself (no shell, no --init needed): the primary installs its
# own handler, drains its workers and exits within SHUTDOWN_TIMEOUT_MS + 2 s, and it waits for its own
# children, the only processes in the container.
CMD ["node", "dist/service/src/main.js"]
