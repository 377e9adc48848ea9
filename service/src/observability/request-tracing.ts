import { ROOT_CONTEXT, SpanKind, SpanStatusCode, propagation, trace, type Span } from '@opentelemetry/api';
import type { IncomingMessage } from 'node:http';

const tracer = trace.getTracer('http-server');

/**
 * Server spans for a sample of requests: every request whose caller sent a traceparent (the caller decided),
 * and at most `perSecond` of the others per process, evenly spaced. A fixed rate rather than a ratio keeps
 * the cost of tracing (a span costs tens of microseconds) and the trace volume flat however high the
 * traffic, while latency exemplars stay fresh. An untraced request costs one header scan and a comparison.
 */
export function createRequestTracer(
  perSecond: number,
  /** The request's traceparent header, read without building req.headers. */
  traceparentOf: (req: IncomingMessage) => string | undefined,
) {
  const spacingMs = perSecond > 0 ? 1000 / perSecond : Infinity;
  let nextAtMs = 0;
  return {
    /** `nowMs` is the caller's performance.now() for the request's start. */
    start(req: IncomingMessage, route: string, nowMs: number): Span | undefined {
      const traceparent = traceparentOf(req);
      if (traceparent === undefined) {
        if (nowMs < nextAtMs || spacingMs === Infinity) return undefined;
        nextAtMs = nowMs + spacingMs;
      }
      const parent =
        traceparent === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, req.headers);
      return tracer.startSpan(
        `${req.method} ${route}`,
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': req.method ?? '',
            'http.route': route,
            'url.path': req.url ?? '',
          },
        },
        parent,
      );
    },
    end(span: Span, statusCode: number): void {
      span.setAttribute('http.response.status_code', statusCode);
      if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
  };
}

export type RequestTracer = ReturnType<typeof createRequestTracer>;
