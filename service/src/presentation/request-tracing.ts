import { ROOT_CONTEXT, SpanKind, SpanStatusCode, propagation, trace, type Span } from '@opentelemetry/api';
import type { IncomingMessage } from 'node:http';

const tracer = trace.getTracer('http-server');

/** Reads one request header from rawHeaders: touching req.headers would build a header object per request. */
export function rawHeader(req: IncomingMessage, lowerCaseName: string): string | undefined {
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === lowerCaseName.length && name.toLowerCase() === lowerCaseName) return raw[i + 1];
  }
  return undefined;
}

/**
 * Server spans for a sample of requests: every request whose caller sent a traceparent (the caller decided),
 * and a `ratio` share of the others. An untraced request costs one header scan and one Math.random().
 */
export function createRequestTracer(ratio: number) {
  return {
    start(req: IncomingMessage, route: string): Span | undefined {
      const traceparent = rawHeader(req, 'traceparent');
      if (traceparent === undefined && (ratio === 0 || Math.random() >= ratio)) return undefined;
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
