import { TraceFlags, type Span } from '@opentelemetry/api';
import type { Metrics } from '../observability/metrics';
import type { Route } from './routes';

/** Requests no route took (404s, and what the parser gave up on): one label value, never the raw URL. */
export const UNMATCHED = 'unmatched';

export type Observe = (statusCode: number, seconds: number, traceId?: string) => void;

/**
 * The latency histogram's observers, one per route and method, built from the route table: label values
 * stay the table's templates, and the routes' known statuses exist at 0 from the start.
 */
export function createRequestObserver(metrics: Pick<Metrics, 'httpObserver'>, routes: readonly Route[]) {
  const observers = new Map<string, Observe>();
  const known = new Map(routes.map((route) => [route.path, route.knownStatuses ?? []]));
  return function observerFor(route: string, method: string): Observe {
    const key = `${route} ${method}`;
    let observe = observers.get(key);
    if (observe === undefined) {
      observe = metrics.httpObserver(route, method, method === 'GET' ? known.get(route) : undefined);
      observers.set(key, observe);
    }
    return observe;
  };
}

export type ObserverFor = ReturnType<typeof createRequestObserver>;

/**
 * The trace id to keep as the latency exemplar: only for a span that is recorded and sampled (exported).
 * Called before the span ends: an ended span no longer records.
 */
export function exemplarTraceId(span: Span | undefined): string | undefined {
  if (span === undefined || !span.isRecording()) return undefined;
  const spanContext = span.spanContext();
  return (spanContext.traceFlags & TraceFlags.SAMPLED) === 0 ? undefined : spanContext.traceId;
}
