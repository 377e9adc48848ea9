import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, NoopSpanProcessor } from '@opentelemetry/sdk-trace';
import { exportingTraces, serviceName } from './trace-settings';

/**
 * The full SDK, with the SDK's sampler (OTEL_TRACES_SAMPLER; default parentbased_always_on): refresh rounds
 * and upstream fetches, a few per second, are always traced. Spans are exported over OTLP/HTTP only when an
 * endpoint is configured; otherwise they are still created, so log lines carry trace ids, and dropped.
 * Metrics stay with prom-client and logs with winston, so the SDK's own metric and log pipelines are off.
 */
export function startSdkTracing(): () => Promise<void> {
  const sdk = new NodeSDK({
    serviceName: serviceName(),
    spanProcessors: [
      exportingTraces()
        ? new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })
        : new NoopSpanProcessor(),
    ],
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      // Outgoing calls to the exchanges get spans and traceparent propagation. Incoming requests are traced
      // by presentation/request-tracing.ts instead: see there why.
      new HttpInstrumentation({ disableIncomingRequestInstrumentation: true }),
    ],
  });
  sdk.start();
  return () => sdk.shutdown();
}
