import {
  mockExchangeClient,
  startMockExchange,
  type MockExchange,
  type MockExchangeClient,
} from '../../../mock-exchange/src/mock-exchange';
import { eventually, sample } from '../helpers/metrics';
import { startService, type TestService } from '../helpers/service';
import { openStream, type SseClient } from '../helpers/sse';

// The service in-process (WORKERS=0 wiring) against the mock exchange, streams over real sockets.
let mock: MockExchange;
let control: MockExchangeClient;
let service: TestService;
const open: SseClient[] = [];

const STREAM = '/api/v1/prices/eth-usdt/stream';
const stream = async (headers: Record<string, string> = {}, path = STREAM) => {
  const client = await openStream(`${service.url}${path}`, headers);
  open.push(client);
  return client;
};
const price = (event: { data: string }) => (JSON.parse(event.data) as { price: string }).price;

beforeAll(async () => {
  mock = await startMockExchange();
  control = mockExchangeClient(mock.url);
  await control.setPrice('ETH/USDT', '3500.00', false);
  service = await startService({
    MOCK_EXCHANGE_URL: mock.url,
    STREAM_HEARTBEAT_MS: '1000',
    STREAM_MAX_SUBSCRIBERS_PER_WORKER: '6',
    STREAM_MAX_SUBSCRIBERS_PER_CLIENT: '3',
    STREAM_RETRY_MS: '1500',
    TRUSTED_PROXY_HOPS: '1',
    TRUSTED_PROXY_CIDRS: '127.0.0.0/8, ::1',
    // Shorter than the streams below live: a stream must not be cut by the request timeout.
    HEADERS_TIMEOUT_MS: '500',
    REQUEST_TIMEOUT_MS: '1000',
  });
  await eventually(
    async () => (await fetch(`${service.url}/api/v1/prices/eth-usdt`)).status,
    (s) => s === 200,
    { what: 'a price' },
  );
}, 20_000);

afterEach(async () => {
  for (const client of open.splice(0)) client.close();
  await control.clearFault('*');
  await control.setPrice('ETH/USDT', '3500.00', false);
});

afterAll(async () => {
  await service?.stop();
  await mock?.close();
});

test('When a client subscribes, then it gets the headers, the retry advice and the current price at once, then each new snapshot once, in order', async () => {
  const client = await stream({ 'X-Forwarded-For': '10.0.0.1' });
  expect(client.status).toBe(200);
  expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
  expect(client.headers['cache-control']).toBe('no-cache');
  expect(client.headers['x-accel-buffering']).toBe('no');
  expect(client.headers['x-content-type-options']).toBe('nosniff');
  const first = await client.next((e) => e.event === 'price', 2000);
  expect(client.retry).toEqual([1500]);
  const rest = await fetch(`${service.url}/api/v1/prices/eth-usdt`);
  const body = (await rest.json()) as Record<string, unknown>;
  const event = JSON.parse(first.data) as Record<string, unknown>;
  // The same JSON as the REST body (ageMs aside, rendered at another moment), and the ETag's version as id.
  expect(Object.keys(event)).toEqual(Object.keys(body));
  expect(first.id).toMatch(/^[\w-]{20}-(ok|degraded)$/);

  await control.setPrice('ETH/USDT', '3600.00', false);
  await client.next((e) => e.event === 'price' && Number(price(e)) > 3590, 5000);
  const prices = client.events.filter((e) => e.event === 'price');
  const ids = prices.map((e) => e.id);
  expect(new Set(ids).size).toBe(ids.length);
  // updatedAt only grows: events come in snapshot order.
  const updated = prices.map((e) => Date.parse((JSON.parse(e.data) as { updatedAt: string }).updatedAt));
  expect([...updated].sort((a, b) => a - b)).toEqual(updated);
  // One event per snapshot: the refresh runs every 200 ms, so about 5 a second, never a burst of repeats.
  expect(prices.length).toBeLessThan(60);
});

test('When the sources fail and come back, then status changes arrive as status events: ok → stale → unavailable → ok', async () => {
  const client = await stream({ 'X-Forwarded-For': '10.0.0.5' });
  await client.next((e) => e.event === 'price', 2000);
  await control.setFault('*', { type: 'status', status: 503 });
  await client.next((e) => e.event === 'status' && e.data.includes('"status":"stale"'), 6000);
  await client.next((e) => e.event === 'status' && e.data.includes('"status":"unavailable"'), 8000);
  const unavailableAt = client.events.length;
  await control.clearFault('*');
  await client.next((e) => e.event === 'status' && /"status":"(ok|degraded)"/.test(e.data), 10_000);
  await client.next((e) => e.event === 'price', 3000, unavailableAt);
  const statuses = client.events
    .filter((e) => e.event === 'status')
    .map((e) => (JSON.parse(e.data) as { status: string }).status);
  expect(statuses.slice(0, 2)).toEqual(['stale', 'unavailable']);
  // No price event while unavailable: the REST route answers 503 then.
  const unavailable = client.events.findIndex((e) => e.data.includes('"status":"unavailable"'));
  const back = client.events.findIndex((e, i) => i > unavailable && e.event === 'status');
  expect(client.events.slice(unavailable + 1, back).filter((e) => e.event === 'price')).toEqual([]);
}, 30_000);

test('When nothing changes, then a heartbeat comment arrives every STREAM_HEARTBEAT_MS, and the stream outlives REQUEST_TIMEOUT_MS', async () => {
  // Taken before the request: the server subscribes the stream, and so can send its first heartbeat, after.
  const opened = Date.now();
  const client = await stream({ 'X-Forwarded-For': '10.0.0.6' });
  // Three heartbeats, 1 s apart at the least: the third comes 2 s or more after the first, past the request
  // timeout (1 s, checked every 500 ms), on a stream that is still open.
  await eventually(
    async () => client.comments.length,
    (n) => n >= 3,
    { what: 'three heartbeats', timeoutMs: 15_000, intervalMs: 20 },
  );
  const elapsed = Date.now() - opened;
  expect(client.comments.length).toBeGreaterThanOrEqual(2);
  // Never more often than STREAM_HEARTBEAT_MS: the first may come at once, then one a second at most.
  expect(client.comments.length).toBeLessThanOrEqual(Math.floor(elapsed / 1000) + 1);
  expect(elapsed).toBeGreaterThanOrEqual(2000);
  const before = client.events.length;
  await client.next(() => true, 2000, before);
});

test('When a client holds too many streams, then 429 problem+json; when the worker is full, then 503 problem+json', async () => {
  for (let i = 0; i < 3; i++) expect((await stream({ 'X-Forwarded-For': '10.0.1.1' })).status).toBe(200);
  const limited = await stream({ 'X-Forwarded-For': '10.0.1.1' });
  await limited.ended;
  expect(limited.status).toBe(429);
  expect(limited.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  expect(limited.headers['retry-after']).toBe('2');
  expect(JSON.parse(limited.body())).toMatchObject({ status: 429, code: 'TOO_MANY_STREAMS' });
  for (let i = 0; i < 3; i++) expect((await stream({ 'X-Forwarded-For': '10.0.1.2' })).status).toBe(200);
  const full = await stream({ 'X-Forwarded-For': '10.0.1.3' });
  await full.ended;
  expect(full.status).toBe(503);
  expect(JSON.parse(full.body())).toMatchObject({ status: 503, code: 'STREAM_CAPACITY_EXHAUSTED' });
  // A closed stream frees its place.
  for (const client of open.splice(0, 2)) client.close();
  await eventually(
    async () => {
      const again = await stream({ 'X-Forwarded-For': '10.0.1.3' });
      return again.status;
    },
    (s) => s === 200,
    { what: 'a place after two streams closed' },
  );
  const metrics = await service.metricsText();
  expect(sample(metrics, 'price_stream_subscribers')).toBeGreaterThan(0);
  expect(sample(metrics, 'price_stream_events_sent_total', { type: 'price' })).toBeGreaterThan(0);
  expect(sample(metrics, 'price_stream_subscribers_dropped_total', { reason: 'backpressure' })).toBe(0);
});

test('When the pair, the method or the path is wrong, then the usual 404/405 problem+json', async () => {
  const unknown = await fetch(`${service.url}/api/v1/prices/doge-usdt/stream`);
  expect(unknown.status).toBe(404);
  expect(await unknown.json()).toMatchObject({ code: 'PAIR_NOT_SUPPORTED' });
  const post = await fetch(`${service.url}${STREAM}`, { method: 'POST' });
  expect(post.status).toBe(405);
  expect(post.headers.get('allow')).toBe('GET, HEAD');
  expect(await post.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
  const other = await fetch(`${service.url}${STREAM}/more`);
  expect(other.status).toBe(404);
  expect(await other.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
  const head = await fetch(`${service.url}${STREAM}`, { method: 'HEAD' });
  expect(head.status).toBe(200);
  expect(head.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
});

test('When the live page is asked for, then its files come with their types, no-cache, an ETag, the security headers and a self-only CSP', async () => {
  const page = await fetch(`${service.url}/`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(page.headers.get('cache-control')).toBe('no-cache');
  expect(page.headers.get('x-frame-options')).toBe('DENY');
  const csp = page.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("connect-src 'self'");
  expect(csp).not.toMatch(/unsafe|https?:/);
  const html = await page.text();
  expect(html).toContain('data-pair="eth-usdt"');
  expect(html).not.toMatch(/<script>|https?:\/\/(?!www\.w3\.org)/); // no inline script, no other origin
  const again = await fetch(`${service.url}/`, {
    headers: { 'If-None-Match': page.headers.get('etag') ?? '' },
  });
  expect(again.status).toBe(304);
  const script = await fetch(`${service.url}/live.js`);
  expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  expect(await script.text()).toContain("new EventSource('/api/v1/prices/' + pair + '/stream')");
  expect((await fetch(`${service.url}/live.css`)).headers.get('content-type')).toBe(
    'text/css; charset=utf-8',
  );
  const post = await fetch(`${service.url}/`, { method: 'POST' });
  expect(post.status).toBe(405);
  expect(await post.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
});
