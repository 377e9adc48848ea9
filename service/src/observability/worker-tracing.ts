import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NoopSpanProcessor,
  TracerProvider,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import { exportingTraces, samplerFromEnv, serviceName } from './trace-settings';

/**
 * A worker's trace pipeline: the same provider, sampler, propagator and exporter sdk-node would set up,
 * without the parts a worker never uses. Workers make no outgoing HTTP calls, so no instrumentation.
 */
export function startWorkerTracing(): () => Promise<void> {
  let exporter: SpanExporter | undefined;
  if (exportingTraces()) {
    // Loaded only when exporting: the OTLP exporter is the heaviest part.
    type Otlp = typeof import('@opentelemetry/exporter-trace-otlp-http');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as Otlp;
    exporter = new OTLPTraceExporter();
  }
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName() }),
    sampler: samplerFromEnv(),
    spanProcessors: [exporter ? new BatchSpanProcessor({ exporter }) : new NoopSpanProcessor()],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return () => provider.shutdown();
}
