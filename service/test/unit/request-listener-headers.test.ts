import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PriceReader } from '../../src/application/price-reader';
import { createClientRateLimiter } from '../../src/infrastructure/rate-limit/client-rate-limiter';
import { createClientIdentity } from '../../src/presentation/client-identity';
import { createRequestListener } from '../../src/presentation/dispatch';
import { createPriceHandler } from '../../src/presentation/price-route';
import { createRateLimit } from '../../src/presentation/rate-limit';
import { createRequestGuard } from '../../src/presentation/request-guard';
import { stubRoutes } from '../fixtures/route-table';
import { SECURITY_HEADERS, createCors } from '../../src/presentation/security-headers';
import type { RateLimitResult } from '../../src/presentation/rate-limit';
import { createSnapshotView } from '../../src/presentation/snapshot-view';
import { SNAPSHOT, T } from '../fixtures/snapshots';

// The request listener with CORS and the rate limit on: the request's own headers are appended to the
// prebuilt list (no setHeader before writeHead), and only the probes' exact paths skip the limiter.
const ORIGIN = 'https://app.example.com';
let server: http.Server;
let base: string;
const setHeaderCalls: string[] = [];
const decisions: RateLimitResult[] = [];

beforeAll(async () => {
  const cors = createCors([ORIGIN]);
  const common = Object.freeze([...SECURITY_HEADERS, ...(cors?.staticHeaders ?? [])]);
  const reader = { current: () => SNAPSHOT, load: async () => SNAPSHOT, peek: () => SNAPSHOT };
  const priceHandler = createPriceHandler({
    reader: reader as unknown as PriceReader,
    view: createSnapshotView({ freshnessMs: 5000, maxStalenessMs: 60_000 }),
    freshness: { freshnessMs: 5000, maxStalenessMs: 60_000 },
    retryAfterSeconds: 1,
    pairs: ['eth-usdt'],
    countServed: () => () => undefined,
    common,
    extraHeaders: true,
    clock: () => T + 1000,
  });
  const routes = stubRoutes({ livePage: { paths: [], serve: () => 200 }, price: priceHandler.handle });
  const listener = createRequestListener(
    routes,
    // Everything that is not the fast path: a bare 404.
    ((_req: http.IncomingMessage, res: http.ServerResponse) => {
      res.statusCode = 404;
      res.end();
    }) as never,
    {
      pairs: ['eth-usdt'],
      observerFor: () => () => undefined,
      isDraining: () => false,
      tracer: { start: () => undefined, end: () => undefined } as never,
      logger: { error: () => undefined } as never,
      common,
      guard: createRequestGuard({ maxBodyBytes: 1024, common, rejected: () => undefined }),
      cors,
      rateLimit: createRateLimit({
        limiter: createClientRateLimiter({ requests: 100, windowSeconds: 60 }),
        requests: 100,
        windowSeconds: 60,
        identify: createClientIdentity({ hops: 0, cidrs: [] }),
        common,
        counted: (result) => decisions.push(result),
      }),
    },
  );
  server = http.createServer((req, res) => {
    const setHeader = res.setHeader.bind(res);
    res.setHeader = (name, value) => {
      setHeaderCalls.push(name);
      return setHeader(name, value);
    };
    listener(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function get(path: string, headers: Record<string, string> = {}) {
  return new Promise<http.IncomingMessage>((resolve, reject) => {
    http
      .get(`${base}${path}`, { headers, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res));
      })
      .on('error', reject);
  });
}

test('When a price is served with CORS and the rate limit on, then its own headers come with the prebuilt list, once each, without setHeader', async () => {
  setHeaderCalls.length = 0;
  const res = await get('/api/v1/prices/eth-usdt', { Origin: ORIGIN });
  expect(res.statusCode).toBe(200);
  expect(setHeaderCalls).toEqual([]);
  const names = res.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
  for (const name of ['access-control-allow-origin', 'ratelimit', 'ratelimit-policy', 'etag', 'vary'])
    expect(names.filter((n) => n === name)).toHaveLength(1);
  expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
  expect(res.headers.ratelimit).toMatch(/^"api";r=\d+;t=\d+$/);
});

test('When a request goes on to Express, then its own headers are still on its response', async () => {
  const res = await get('/api/nothing-here', { Origin: ORIGIN });
  expect(res.statusCode).toBe(404);
  expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
  expect(res.headers.ratelimit).toMatch(/^"api";r=\d+;t=\d+$/);
});

test('When a path is under /health/ but not a probe, then it is counted by the rate limit; the probes are not', async () => {
  decisions.length = 0;
  await get('/health/liveness');
  await get('/health/readiness');
  expect(decisions).toEqual([]);
  await get('/health/liveness/x');
  await get('/health/anything');
  await get('/health/readiness?verbose');
  expect(decisions).toEqual(['allowed', 'allowed', 'allowed']);
});
