/**
 * OpenTelemetry, started before anything else is loaded so that http and the libraries above it are
 * instrumented. main.ts imports this file first. Spans are exported over OTLP/HTTP only when
 * OTEL_EXPORTER_OTLP_ENDPOINT (or its traces variant) is set; without it spans are still created so that
 * log lines carry trace ids, and dropped. Sampling follows the standard OTEL_TRACES_SAMPLER variables.
 * Metrics stay with prom-client and logs with winston, so the SDK's own metric and log pipelines are off.
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, NoopSpanProcessor } from '@opentelemetry/sdk-trace';

const exporting = Boolean(
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
);
const UNTRACED_PATHS = new Set(['/health/liveness', '/health/readiness', '/metrics']);

const sdk = new NodeSDK({
  serviceName: process.env.OTEL_SERVICE_NAME ?? process.env.SERVICE_NAME ?? 'eth-usdt-price-service',
  spanProcessors: [
    exporting ? new BatchSpanProcessor({ exporter: new OTLPTraceExporter() }) : new NoopSpanProcessor(),
  ],
  metricReaders: [],
  logRecordProcessors: [],
  instrumentations: [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has(req.url ?? ''),
    }),
  ],
});
sdk.start();

let stopping: Promise<void> | undefined;

/** Flushes buffered spans; safe to call more than once. */
export function shutdownTracing(): Promise<void> {
  stopping ??= sdk.shutdown().catch(() => undefined);
  return stopping;
}
