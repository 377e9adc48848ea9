import net from 'node:net';
import { readFileSync } from 'node:fs';
import openapi from '../../openapi.json';
import { PROBLEMS, problemType } from '../../src/presentation/problem';
import { stubRoutes } from '../fixtures/route-table';
import { exchange, header, parseResponses } from '../helpers/raw-http';
import { eventually, sample } from '../helpers/metrics';
import { startMockExchange, type MockExchange } from '../../../mock-exchange/src/mock-exchange';
import { startService, type TestService } from '../helpers/service';

// The route table is the one place a route is described: these tests read it, not a copy of it.
const ROUTES = stubRoutes();
const urlOf = (path: string) => path.replace(':pair', 'eth-usdt');
// The rate limit is on (3 per client): every request but the limiter's own test comes from a new client.
let clients = 0;
const fresh = () => ({ 'X-Forwarded-For': `192.0.2.${++clients % 250}` });

let mock: MockExchange;
let service: TestService;
let port: number;

beforeAll(async () => {
  mock = await startMockExchange();
  service = await startService({
    MOCK_EXCHANGE_URL: mock.url,
    RATE_LIMIT_REQUESTS: '3',
    RATE_LIMIT_WINDOW_SECONDS: '60',
    TRUSTED_PROXY_HOPS: '1',
    TRUSTED_PROXY_CIDRS: '127.0.0.1',
    MAX_CONNECTIONS_PER_WORKER: '3',
  });
  port = Number(new URL(service.url).port);
  await eventually(
    async () => (await fetch(`${service.url}/api/v1/prices/eth-usdt`, { headers: fresh() })).status,
    (status) => status === 200,
    { what: 'a first price' },
  );
});
afterAll(async () => {
  await service?.stop();
  await mock?.close();
});

const durationCount = async (route: string, method: string, status: number) =>
  sample(await service.metricsText(), 'http_request_duration_seconds_count', {
    route,
    method,
    status_code: String(status),
  }) ?? 0;

test('When a route of the table gets another method, then 405 problem+json with the Allow the table gives, counted under its route', async () => {
  for (const route of ROUTES) {
    const res = await fetch(`${service.url}${urlOf(route.path)}`, {
      method: 'DELETE',
      headers: fresh(),
    });
    expect([route.path, res.status, res.headers.get('allow')]).toEqual([route.path, 405, route.allow]);
    expect(await res.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED', status: 405 });
    expect(await durationCount(route.path, 'DELETE', 405)).toBe(1);
  }
});

test('When the rate limit answers 429 or the guard 413 before any route, then the request histogram counts them under the route', async () => {
  const client = { 'X-Forwarded-For': '203.0.113.77' };
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await fetch(`${service.url}/api/`, { headers: client })).status);
  expect(statuses).toEqual([200, 200, 200, 429]);
  expect(await durationCount('/api/', 'GET', 429)).toBe(1);
  const big = await exchange(
    port,
    'GET /api/v1/prices/eth-usdt HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n',
  );
  expect(parseResponses(big.raw)[0]?.status).toBe(413);
  expect(await durationCount('/api/v1/prices/:pair', 'GET', 413)).toBe(1);
});

test('When the parser gives up (431), then the answer is counted too, as unmatched', async () => {
  const before = await durationCount('unmatched', 'UNKNOWN', 431);
  const res = await exchange(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  expect(parseResponses(res.raw)[0]?.status).toBe(431);
  await eventually(
    () => durationCount('unmatched', 'UNKNOWN', 431),
    (count) => count === before + 1,
    { what: 'the 431 counted' },
  );
});

test('When If-None-Match is split over two header lines, then the tag on the second still matches (RFC 9110 5.3)', async () => {
  const attempt = async () => {
    const first = await fetch(`${service.url}/api/v1/prices/eth-usdt`, {
      headers: fresh(),
    });
    const etag = first.headers.get('etag') as string;
    const request =
      `GET /api/v1/prices/eth-usdt HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: ${fresh()['X-Forwarded-For']}\r\n` +
      `If-None-Match: W/"nothing"\r\nIf-None-Match: ${etag}\r\nConnection: close\r\n\r\n`;
    const [response] = parseResponses((await exchange(port, request)).raw);
    return { status: response?.status, etag, now: first.headers.get('etag') };
  };
  // A new price may land between the two requests (a busy machine): then 200 is right, and a later try gets
  // the 304. Read from the first line only, the tag never matches and every try gets 200.
  const result = await eventually(attempt, (r) => r.status === 304, {
    what: 'a 304 for the tag on the second line',
    timeoutMs: 10_000,
  });
  expect(result.status).toBe(304);
});

test('When the live page is asked with a weak validator or *, then 304 (weak comparison, RFC 9110 13.1.2)', async () => {
  const page = await fetch(`${service.url}/`, { headers: fresh() });
  const strong = page.headers.get('etag') as string;
  for (const tag of [strong, `W/${strong}`, '*', `"other", W/${strong}`]) {
    const res = await fetch(`${service.url}/`, {
      headers: { 'If-None-Match': tag, ...fresh() },
    });
    expect([tag, res.status]).toEqual([tag, 304]);
  }
  const miss = await fetch(`${service.url}/`, {
    headers: { 'If-None-Match': '"other"', ...fresh() },
  });
  expect(miss.status).toBe(200);
});

test.each(['/api/', '/api/openapi.json'])(
  'When %s is asked again with its ETag, then 304; it is stored by caches but revalidated on every use',
  async (path) => {
    const first = await fetch(`${service.url}${path}`, { headers: fresh() });
    await first.json();
    const etag = first.headers.get('etag') as string;
    expect([etag, first.headers.get('cache-control')]).toEqual([
      expect.stringMatching(/^"[\w-]{20}"$/),
      'no-cache',
    ]);
    for (const tag of [etag, `W/${etag}`, '*']) {
      const again = await fetch(`${service.url}${path}`, { headers: { 'If-None-Match': tag, ...fresh() } });
      expect([tag, again.status, again.headers.get('etag')]).toEqual([tag, 304, etag]);
    }
    const other = await fetch(`${service.url}${path}`, { headers: { 'If-None-Match': '"x"', ...fresh() } });
    expect(other.status).toBe(200);
  },
);

test('When a connection comes over the per-worker cap, then its request gets 503 problem+json with Connection: close, not a reset', async () => {
  const held: net.Socket[] = [];
  try {
    // Fill the cap (3) with idle connections.
    for (let i = 0; i < 3; i++) {
      held.push(
        await new Promise<net.Socket>((resolve) => {
          const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
        }),
      );
    }
    await eventually(
      () => service.metricsText(),
      (text) => (sample(text, 'http_open_connections') ?? 0) >= 3,
      { what: 'the cap of three connections reached' },
    );
    const over = await exchange(port, 'GET /api/v1/prices/eth-usdt HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(over.reset).toBe(false);
    const [response] = parseResponses(over.raw);
    expect(response?.status).toBe(503);
    expect(header(response!, 'connection')).toBe('close');
    expect(header(response!, 'retry-after')).toBe('1');
    expect(JSON.parse(response!.body.toString())).toMatchObject({ code: 'SERVER_BUSY', status: 503 });
  } finally {
    for (const socket of held) socket.destroy();
  }
});

test('When the OpenAPI document lists problem codes, then they are exactly the catalogue, each with a status documented', () => {
  const schema = openapi.components.schemas.Problem.properties.code as { enum: string[] };
  expect([...schema.enum].sort()).toEqual(Object.keys(PROBLEMS).sort());
  const documented = new Set<number>();
  for (const path of Object.values(openapi.paths) as Record<
    string,
    { responses?: Record<string, unknown> }
  >[]) {
    for (const operation of Object.values(path)) {
      for (const status of Object.keys(operation.responses ?? {})) documented.add(Number(status));
    }
  }
  for (const [code, { status }] of Object.entries(PROBLEMS)) {
    expect([code, documented.has(status)]).toEqual([code, true]);
  }
});

test('When docs/api.md lists the error codes, then its table is the catalogue: every code, its status and its type URI', () => {
  const doc = readFileSync(`${__dirname}/../../../docs/api.md`, 'utf8');
  const rows = new Map(
    [...doc.matchAll(/^\| `([A-Z_]+)`\s*\| (\d{3})[^|]*\| `(urn:[^`]+)`/gm)].map((m) => [
      m[1],
      [Number(m[2]), m[3]],
    ]),
  );
  for (const [code, { status }] of Object.entries(PROBLEMS)) {
    expect([code, rows.get(code)]).toEqual([code, [status, problemType(code as keyof typeof PROBLEMS)]]);
  }
  expect([...rows.keys()].sort()).toEqual(Object.keys(PROBLEMS).sort());
});
