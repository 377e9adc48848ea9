import { availableParallelism } from 'node:os';
import { choice, int, text } from '../setting';

/** Listeners, processes, logs and shutdown: top-level fields of Config. */
export const serverSettings = {
  host: text({
    env: 'HOST',
    default: '0.0.0.0',
    doc: 'listen address of the API and metrics listeners',
    k8s: {},
  }),
  port: int({
    env: 'PORT',
    min: 0,
    max: 65_535,
    default: 8000,
    doc: 'port of the API, the health probes and the live page',
    k8s: {},
  }),
  metricsPort: int({
    env: 'METRICS_PORT',
    min: 0,
    max: 65_535,
    default: 8001,
    doc: 'Prometheus `/metrics` port (served by the cluster primary); must differ from `PORT`',
    k8s: {},
  }),
  listenBacklog: int({
    env: 'LISTEN_BACKLOG',
    min: 1,
    max: 65_535,
    default: 4096,
    doc: "accept queue of the API listener (Node's default is 511); the kernel caps it at `net.core.somaxconn`, which the tuning overlay raises (docs/deployment.md)",
  }),
  workers: int({
    env: 'WORKERS',
    min: 0,
    max: 256,
    default: availableParallelism(),
    defaultDoc: 'CPU count',
    doc: 'worker processes forked by the cluster primary; `0` runs everything in one process (no cluster)',
    example: '2',
    k8s: {
      value: '1',
      comment:
        'HTTP workers: at most the CPU request rounded up (deployment.yaml requests 1 CPU; k8s/test checks it).',
    },
  }),
  logLevel: choice({
    env: 'LOG_LEVEL',
    words: ['error', 'warn', 'info', 'debug'],
    default: 'info',
    doc: '`error`, `warn`, `info` or `debug`',
    k8s: {},
  }),
  serviceName: text({
    env: 'SERVICE_NAME',
    default: 'eth-usdt-price-service',
    doc: 'the service name in logs and traces',
    k8s: {},
  }),
  shutdownTimeoutMs: int({
    env: 'SHUTDOWN_TIMEOUT_MS',
    min: 100,
    max: 120_000,
    default: 10_000,
    unit: 'ms',
    doc: 'drain deadline on SIGTERM/SIGINT',
    k8s: {},
  }),
  drainDelayMs: int({
    env: 'DRAIN_DELAY_MS',
    min: 0,
    max: 60_000,
    default: 0,
    unit: 'ms',
    doc: 'on SIGTERM, keep serving this long with readiness already 503 before closing the listener, so load balancers stop sending first (e.g. `5000` behind Kubernetes without a preStop sleep); less than `SHUTDOWN_TIMEOUT_MS`',
    k8s: {
      comment: 'The pod drains with its preStop sleep instead (k8s/test rejects a pod that drains twice).',
    },
  }),
  drainIdleGraceMs: int({
    env: 'DRAIN_IDLE_GRACE_MS',
    min: 0,
    max: 60_000,
    default: 1000,
    unit: 'ms',
    doc: 'on shutdown, once the listener has closed, an idle keep-alive connection may still bring one more request (answered with `Connection: close`) for this long; `0` closes idle connections with the listener; `DRAIN_DELAY_MS` plus this must be shorter than `SHUTDOWN_TIMEOUT_MS`',
  }),
  traceRequestsPerSecond: int({
    env: 'TRACE_REQUESTS_PER_SECOND',
    min: 0,
    max: 100_000,
    default: 10,
    unit: 'per second',
    doc: "API requests traced per second and worker when the caller sent no `traceparent`, evenly spaced (a caller's `traceparent` is always honoured); `0` = only those",
  }),
  hsts: int({
    env: 'HSTS_MAX_AGE_SECONDS',
    min: 0,
    max: 63_072_000,
    default: 0,
    unit: 's',
    doc: '`Strict-Transport-Security` max-age, sent only when this is above `0`: set it only when the service is reached over TLS (a proxy or load balancer terminating it), as browsers would otherwise be pinned to an HTTPS that is not there',
    toConfig: (seconds): { readonly maxAgeSeconds: number } | undefined =>
      seconds === 0 ? undefined : { maxAgeSeconds: seconds },
  }),
};
