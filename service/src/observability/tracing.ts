/**
 * OpenTelemetry, started before anything else is loaded (main.ts imports this file first) so that http and
 * the libraries above it are instrumented.
 *
 * The process that fetches from the exchanges (the cluster primary, or the only process with WORKERS=0)
 * runs the full @opentelemetry/sdk-node. Workers only serve from memory: they run the same trace pipeline
 * built from the SDK's parts, because sdk-node also loads gRPC, every exporter and the metrics and logs
 * SDKs, about 40 MB of RSS per process that a worker would never use (measured: docs/performance.md).
 */
import cluster from 'node:cluster';

type Stop = () => Promise<void>;

// A conditional require keeps the unused variant out of the process entirely.
/* eslint-disable @typescript-eslint/no-require-imports */
const stop: Stop = cluster.isWorker
  ? (require('./worker-tracing') as { startWorkerTracing(): Stop }).startWorkerTracing()
  : (require('./sdk-tracing') as { startSdkTracing(): Stop }).startSdkTracing();
/* eslint-enable @typescript-eslint/no-require-imports */

let stopping: Promise<void> | undefined;

/** Flushes buffered spans; safe to call more than once. */
export function shutdownTracing(): Promise<void> {
  stopping ??= stop().catch(() => undefined);
  return stopping;
}
