import type { IncomingMessage, ServerResponse } from 'node:http';
import { effectiveConnectionCap } from '../../src/infrastructure/http/http-server';
import { createRequestGuard } from '../../src/presentation/request-guard';
import { SECURITY_HEADERS, createCors, securityHeaders } from '../../src/presentation/security-headers';

const request = (rawHeaders: string[], remoteAddress = '10.0.0.9', version = '1.1') =>
  ({
    rawHeaders,
    socket: { remoteAddress },
    httpVersionMajor: Number(version[0]),
    httpVersionMinor: Number(version[2]),
    url: '/api/v1/prices/eth-usdt',
    method: 'GET',
  }) as unknown as IncomingMessage;

describe('effectiveConnectionCap', () => {
  test('When the file limit is lower than the cap, then the cap shrinks to fit it with room to spare', () => {
    expect(effectiveConnectionCap(10_000, 1024)).toBe(960);
    expect(effectiveConnectionCap(500, 1024)).toBe(500);
    expect(effectiveConnectionCap(10_000, undefined)).toBe(10_000);
    expect(effectiveConnectionCap(10_000, 10)).toBe(1);
  });
});

describe('security headers', () => {
  test('When the module loads, then helmet has been run once into a frozen flat list suited to a JSON API', () => {
    expect(Object.isFrozen(SECURITY_HEADERS)).toBe(true);
    const headers = Object.fromEntries(
      Array.from({ length: SECURITY_HEADERS.length / 2 }, (_, i) => [
        SECURITY_HEADERS[2 * i],
        SECURITY_HEADERS[2 * i + 1],
      ]),
    );
    expect(headers).toMatchObject({
      'Content-Security-Policy': "default-src 'none';frame-ancestors 'none'",
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Resource-Policy': 'same-origin',
    });
    expect(Object.keys(headers)).not.toContain('X-Powered-By');
  });

  test('When HSTS is not configured (the default, plain HTTP), then no Strict-Transport-Security; when it is, then exactly its max-age', () => {
    const names = (list: readonly string[]) => list.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    expect(names(SECURITY_HEADERS)).not.toContain('strict-transport-security');
    expect(names(securityHeaders(undefined))).not.toContain('strict-transport-security');
    const withHsts = securityHeaders({ maxAgeSeconds: 31_536_000 });
    const at = withHsts.findIndex((v, i) => i % 2 === 0 && v.toLowerCase() === 'strict-transport-security');
    expect(withHsts[at + 1]).toBe('max-age=31536000');
    // The CORS preflight answers with the same list.
    const cors = createCors('*', withHsts);
    const written: string[][] = [];
    cors?.preflight(
      { method: 'OPTIONS', rawHeaders: ['Access-Control-Request-Method', 'GET'] } as never,
      { writeHead: (_: number, list: string[]) => written.push(list), end: () => undefined } as never,
    );
    expect(written[0]).toContain('max-age=31536000');
  });

  test('When CORS is off, then there is nothing to do per request', () => {
    expect(createCors(undefined)).toBeUndefined();
  });
});

describe('request guard', () => {
  const rejected: string[] = [];
  const guard = createRequestGuard({ maxBodyBytes: 10, common: [], rejected: (r) => rejected.push(r) });
  const response = () => {
    const res = { shouldKeepAlive: true, status: 0, writeHead: jest.fn(), end: jest.fn() };
    res.writeHead.mockImplementation((status: number) => (res.status = status));
    return res;
  };

  test('When header names come in any case, then Host and Content-Length are still found', () => {
    const ok = response();
    expect(
      guard.reject(request(['hOsT', 'x', 'CONTENT-length', '10']), ok as unknown as ServerResponse),
    ).toBe(false);
    const big = response();
    expect(
      guard.reject(request(['Host', 'x', 'Content-Length', '11']), big as unknown as ServerResponse),
    ).toBe(true);
    expect(big.status).toBe(413);
    expect(big.shouldKeepAlive).toBe(false);
  });

  test('When a body is chunked, then the request goes on but the connection closes after it', () => {
    const res = response();
    expect(
      guard.reject(request(['Host', 'x', 'Transfer-Encoding', 'chunked']), res as unknown as ServerResponse),
    ).toBe(false);
    expect(res.shouldKeepAlive).toBe(false);
  });

  test('When Host is missing, then HTTP/1.1 is refused with 400 and HTTP/1.0 is not', () => {
    const res = response();
    expect(guard.reject(request(['Accept', '*/*']), res as unknown as ServerResponse)).toBe(true);
    expect(res.status).toBe(400);
    expect(guard.reject(request([], '10.0.0.9', '1.0'), response() as unknown as ServerResponse)).toBe(false);
    expect(rejected).toEqual(['payload_too_large', 'bad_request']);
  });
});
