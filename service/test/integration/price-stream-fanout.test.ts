import net from 'node:net';
import type { PriceSnapshot } from '../../src/application/price-snapshot';
import { startHttpServer, type HttpServer } from '../../src/infrastructure/http/http-server';
import { createSharedCache } from '../../src/composition/common';
import { buildHttp, type HttpParts } from '../../src/composition/http';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/observability/logger';
import { createMetrics, type Metrics } from '../../src/observability/metrics';
import { eventually, sample } from '../helpers/metrics';
import { TEST_ENV } from '../helpers/service';
import { openStream, type SseClient } from '../helpers/sse';

// The worker's HTTP wiring (buildHttp) without a refresher: the test hands it snapshots, as the primary does
// over IPC, and watches what reaches real sockets.
let http: HttpParts;
let server: HttpServer;
let metrics: Metrics;
let url: string;
const open: SseClient[] = [];
let round = 0;

const MAX_BUFFERED = 65_536;

/** A snapshot as a refresh round makes it; `sources` many sources make a big event. */
function snapshot(price: string, sources = 6): PriceSnapshot {
  round++;
  const now = Date.now();
  return {
    v: 1,
    pair: 'eth-usdt',
    symbol: 'ETH/USDT',
    price: { price, bid: price, ask: price, confidence: '0.01', timestampMs: now - 50 },
    updatedAtMs: now + round, // strictly newer each time, as rounds are
    quorum: { used: sources, configured: sources, min: 3 },
    sources: Array.from({ length: sources }, (_, i) => ({
      exchange: `source-${i}`,
      state: 'used' as const,
      price,
      bid: price,
      ask: price,
      timestampMs: now - 50,
      timestampSource: 'receive' as const,
      latencyMs: round % 1000,
      deviationBps: '0',
    })),
  };
}

const stream = async (headers: Record<string, string> = {}) => {
  const client = await openStream(`${url}/api/v1/prices/eth-usdt/stream`, headers);
  open.push(client);
  return client;
};
const priceOf = (e: { data: string }) => (JSON.parse(e.data) as { price: string }).price;

beforeAll(async () => {
  const config = loadConfig({
    ...TEST_ENV,
    CACHE_TTL: '30',
    MAX_STALENESS: '60',
    STREAM_MAX_SUBSCRIBERS_PER_WORKER: '2000',
    STREAM_MAX_SUBSCRIBERS_PER_CLIENT: '2000',
    STREAM_MAX_BUFFERED_BYTES: String(MAX_BUFFERED),
  });
  const logger = createLogger({ level: 'error', service: 'test', silent: true });
  metrics = createMetrics({ vocabulary: { pairs: ['eth-usdt'] }, defaultMetrics: false });
  const shared = createSharedCache(config, { metrics, logger });
  http = buildHttp(config, { metrics, logger, shared, isDraining: () => false });
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    backlog: 4096,
    listener: http.listener,
    ...http.server,
  });
  url = `http://127.0.0.1:${server.port}`;
  http.accept(snapshot('3500'));
});

afterEach(() => {
  for (const client of open.splice(0)) client.close();
});

afterAll(async () => {
  await server?.drain({ timeoutMs: 1000, idleGraceMs: 0 });
  await http?.close();
});

test('When a client resumes with the current Last-Event-ID, then nothing is re-sent; with another id, the current snapshot at once', async () => {
  const first = await stream();
  const current = await first.next((e) => e.event === 'price', 2000);
  const resumed = await stream({ 'Last-Event-ID': current.id as string });
  const behind = await stream({ 'Last-Event-ID': 'an-older-id-ok' });
  expect((await behind.next(() => true, 2000)).id).toBe(current.id);
  expect(resumed.events).toEqual([]);
  // The next snapshot reaches the resumed stream like any other, once. Events on one stream arrive in the
  // order they were sent, so it being the first event there also proves nothing was re-sent before it.
  http.accept(snapshot('3501'));
  const next = await resumed.next((e) => e.event === 'price', 2000);
  expect(resumed.retry).toEqual([2000]);
  expect(priceOf(next)).toBe('3501');
  await behind.next((e) => priceOf(e) === '3501', 2000);
  expect(resumed.events.map((e) => e.id)).toEqual([next.id]);
  expect(behind.events.map((e) => e.id)).toEqual([current.id, next.id]);
  // An older snapshot arriving late (IPC and L2 race) is not news: the newer one sent after it is the next
  // event the stream gets.
  const late = { ...snapshot('3400'), updatedAtMs: 1 };
  http.accept(late);
  http.accept(snapshot('3502'));
  const after = await resumed.next((e) => priceOf(e) === '3502', 2000);
  expect(resumed.events.map((e) => e.id)).toEqual([next.id, after.id]);
});

test('When 1000 subscribers listen, then every snapshot reaches each of them exactly once, in order', async () => {
  const clients = await Promise.all(Array.from({ length: 1000 }, () => stream()));
  await Promise.all(clients.map((c) => c.next((e) => e.event === 'price', 10_000)));
  const published = ['3510', '3511', '3512'];
  // Each published once every subscriber has the one before.
  for (const p of published) {
    http.accept(snapshot(p));
    await Promise.all(clients.map((c) => c.next((e) => priceOf(e) === p, 10_000)));
  }
  for (const c of clients) {
    expect(c.events.slice(1).map(priceOf)).toEqual(published);
  }
  const text = await metrics.registry.metrics();
  expect(sample(text, 'price_stream_subscribers')).toBe(1000);
  expect(sample(text, 'price_stream_fanout_seconds_count')).toBeGreaterThanOrEqual(3);
}, 60_000);

test('When a subscriber stops reading, then it is dropped once its unsent bytes pass the bound, and the readers go on', async () => {
  const reader = await stream();
  // A raw client that sends the request and never reads: the kernel's buffers fill, then the server's.
  const stuck = net.connect(server.port, '127.0.0.1');
  await new Promise<void>((resolve) => stuck.once('connect', resolve));
  stuck.write('GET /api/v1/prices/eth-usdt/stream HTTP/1.1\r\nHost: x\r\n\r\n');
  stuck.pause();
  await eventually(
    async () => http.stream.subscribers(),
    (n) => n === 2,
    { what: 'both subscribed' },
  );
  // Big events (100 sources, ~20 KB each) until the stuck one is gone, each after the reader could read;
  // bounded so the test cannot spin.
  let sent = 0;
  while (http.stream.subscribers() === 2 && sent < 5000) {
    http.accept(snapshot(String(3600 + (sent % 100)), 100));
    sent++;
    await new Promise((r) => setTimeout(r, sent % 4 === 0 ? 1 : 0));
  }
  expect(http.stream.subscribers()).toBe(1);
  // Dropped after about the kernel's buffers plus the bound, not after everything sent.
  expect(sent).toBeLessThan(1000);
  expect(server.openConnections()).toBe(1);
  const text = await metrics.registry.metrics();
  expect(sample(text, 'price_stream_subscribers_dropped_total', { reason: 'backpressure' })).toBe(1);
  // The reader still gets the next event.
  http.accept(snapshot('3999'));
  await reader.next((e) => priceOf(e) === '3999', 10_000);
  expect(http.stream.subscribers()).toBe(1);
  stuck.destroy();
}, 60_000);

test('When no new snapshot comes, then the stream itself says when the price turns stale and then unavailable', async () => {
  const client = await stream();
  await client.next((e) => e.event === 'price', 2000);
  // CACHE_TTL is 30 s and MAX_STALENESS 60 s here: a price 29.6 s old turns stale in under a second by
  // time alone, with nothing published.
  const ageing = snapshot('3700');
  http.accept({
    ...ageing,
    price: { ...(ageing.price as object), timestampMs: Date.now() - 29_600 },
  } as PriceSnapshot);
  const stale = await client.next((e) => e.event === 'status', 3000);
  expect(JSON.parse(stale.data)).toMatchObject({ status: 'stale', previous: 'ok' });
  const old = snapshot('3700');
  http.accept({
    ...old,
    price: { ...(old.price as object), timestampMs: Date.now() - 59_600 },
  } as PriceSnapshot);
  const unavailable = await client.next(
    (e) => e.event === 'status' && e.data.includes('"unavailable"'),
    3000,
  );
  expect(JSON.parse(unavailable.data)).toMatchObject({ status: 'unavailable', previous: 'stale' });
  expect(unavailable.id).toMatch(/-unavailable$/);
  // A new subscriber is told the status, not sent a price the REST route would refuse.
  const late = await stream();
  expect((await late.next(() => true, 2000)).event).toBe('status');
  http.accept(snapshot('3500'));
  const back = await client.next((e) => e.event === 'status' && e.data.includes('"status":"ok"'), 2000);
  expect(JSON.parse(back.data)).toMatchObject({ status: 'ok', previous: 'unavailable' });
});

test('When the worker drains, then every stream is ended cleanly and a stream opened afterwards gets the price and ends', async () => {
  const clients = await Promise.all(Array.from({ length: 5 }, () => stream()));
  await Promise.all(clients.map((c) => c.next((e) => e.event === 'price', 2000)));
  expect(http.stream.close()).toBe(5);
  await Promise.all(clients.map((c) => c.ended));
  const late = await stream();
  await late.ended;
  expect(late.status).toBe(200);
  expect(late.events.map((e) => e.event)).toEqual(['price']);
  const text = await metrics.registry.metrics();
  expect(sample(text, 'price_stream_subscribers_dropped_total', { reason: 'draining' })).toBe(5);
  expect(sample(text, 'price_stream_subscribers')).toBe(0);
});
