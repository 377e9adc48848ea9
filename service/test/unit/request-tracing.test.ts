import type { IncomingMessage } from 'node:http';
import { createRequestTracer } from '../../src/observability/request-tracing';
import { rawHeader } from '../../src/presentation/http-headers';

const traceparentOf = (req: IncomingMessage) => rawHeader(req, 'traceparent');

const request = (rawHeaders: string[] = ['Host', 'localhost']) =>
  ({ rawHeaders, headers: {}, method: 'GET', url: '/api/v1/prices/eth-usdt' }) as unknown as IncomingMessage;
const TRACEPARENT = ['Host', 'x', 'Traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'];

describe('request tracing', () => {
  test('When 10 traces per second are allowed, then requests are traced at most every 100 ms', () => {
    const tracer = createRequestTracer(10, traceparentOf);
    const traced = [0, 20, 99.9, 100, 150, 250, 251].map(
      (t) => tracer.start(request(), '/r', t) !== undefined,
    );
    expect(traced).toEqual([true, false, false, true, false, true, false]);
  });

  test('When the caller sends a traceparent, then the request is traced whatever the budget', () => {
    const tracer = createRequestTracer(1, traceparentOf);
    expect(tracer.start(request(), '/r', 0)).toBeDefined();
    expect(tracer.start(request(TRACEPARENT), '/r', 1)).toBeDefined();
    expect(tracer.start(request(), '/r', 2)).toBeUndefined();
  });

  test('When tracing is off (0 per second), then only callers with a traceparent are traced', () => {
    const tracer = createRequestTracer(0, traceparentOf);
    expect(tracer.start(request(), '/r', 1e9)).toBeUndefined();
    expect(tracer.start(request(TRACEPARENT), '/r', 1e9)).toBeDefined();
  });

  test('When a header is read, then the name matches case-insensitively and a missing one is undefined', () => {
    expect(rawHeader(request(['IF-NONE-MATCH', 'W/"a"']), 'if-none-match')).toBe('W/"a"');
    expect(rawHeader(request(['If-None-Matcher', 'x']), 'if-none-match')).toBeUndefined();
    expect(rawHeader(request(), 'traceparent')).toBeUndefined();
  });

  test('When a field is sent on several lines, then its value is the lines joined as one list (RFC 9110 5.3)', () => {
    const req = request(['If-None-Match', 'W/"a"', 'Host', 'x', 'if-none-match', 'W/"b", W/"c"']);
    expect(rawHeader(req, 'if-none-match')).toBe('W/"a", W/"b", W/"c"');
  });
});
