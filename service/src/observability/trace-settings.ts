import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace';

// Standard OTEL_* variables, read the way the SDK reads them. Tracing starts before config.ts runs, so
// these are read here, leniently: a bad value falls back to the SDK default rather than stopping the start.

export function exportingTraces(): boolean {
  return Boolean(process.env.OTEL_EXPORTER_OTLP_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

export function serviceName(): string {
  return process.env.OTEL_SERVICE_NAME || process.env.SERVICE_NAME || 'eth-usdt-price-service';
}

/** OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG; the SDK's default is parentbased_always_on. */
export function samplerFromEnv(): Sampler {
  const ratio = Number(process.env.OTEL_TRACES_SAMPLER_ARG ?? '1');
  const safeRatio = Number.isFinite(ratio) && ratio >= 0 && ratio <= 1 ? ratio : 1;
  switch (process.env.OTEL_TRACES_SAMPLER) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(safeRatio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(safeRatio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}
