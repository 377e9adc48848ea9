import type { SharedCache } from '../../src/application/ports';
import { createPriceReader } from '../../src/application/price-reader';
import type { PriceSnapshot } from '../../src/application/price-snapshot';
import { startHttpServer, type HttpServer } from '../../src/infrastructure/http/http-server';
import { createMemoryCache } from '../../src/infrastructure/cache/memory-cache';
import { createPriceStream, type PriceStream } from '../../src/presentation/price-stream';
import { createSnapshotView } from '../../src/presentation/snapshot-view';
import { eventually } from '../helpers/metrics';
import { openStream } from '../helpers/sse';

// The stream module on a real socket with its clock in the test's hands: lifetimes and the heartbeat are
// decided by the one sweep timer, never by a timer per subscriber.
let now = Date.now();
const clock = () => now;
let server: HttpServer;
let first: PriceSnapshot;
let stream: PriceStream;
const dropped: string[] = [];

beforeAll(async () => {
  const freshness = { freshnessMs: 600_000, maxStalenessMs: 1_200_000 };
  const reader = createPriceReader({
    l1: createMemoryCache({ maxStalenessMs: freshness.maxStalenessMs }),
    l2: { getSnapshot: async () => undefined } as unknown as SharedCache,
    counters: { cacheLookup: () => undefined },
  });
  stream = createPriceStream({
    settings: {
      maxSubscribersPerWorker: 100,
      maxSubscribersPerClient: 100,
      heartbeatMs: 5_000,
      maxLifetimeMs: 60_000,
      retryMs: 1000,
      maxBufferedBytes: 65_536,
    },
    reader,
    view: createSnapshotView(freshness),
    pairs: ['eth-usdt'],
    identify: (req) => req.socket.remoteAddress ?? 'unknown',
    common: [],
    retryAfterSeconds: 1,
    metrics: {
      streamSubscribers: () => undefined,
      streamEventsSent: () => undefined,
      streamDropped: (reason) => dropped.push(reason),
      streamFanout: () => undefined,
    },
    clock,
  });
  const snapshot: PriceSnapshot = {
    v: 1,
    pair: 'eth-usdt',
    symbol: 'ETH/USDT',
    price: { price: '3500', bid: '3499', ask: '3501', confidence: '0', timestampMs: now },
    updatedAtMs: now,
    quorum: { used: 3, configured: 3, min: 2 },
    sources: [],
  };
  first = snapshot;
  reader.accept(snapshot);
  stream.publish(snapshot);
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    backlog: 511,
    listener: (req, res) => void stream.handle(req, res, 'eth-usdt'),
  });
});

afterAll(async () => {
  stream.close();
  await server?.drain({ timeoutMs: 1000, idleGraceMs: 0 });
});

test('When a stream reaches STREAM_MAX_LIFETIME_MS, then the server ends it (reason lifetime) and a younger one stays; heartbeats follow the interval', async () => {
  const url = `http://127.0.0.1:${server.port}/`;
  const old = await openStream(url);
  await old.next((e) => e.event === 'price', 2000);
  now += 30_000;
  const young = await openStream(url);
  await young.next((e) => e.event === 'price', 2000);
  // 30 s on the clock: heartbeats are due (5 s interval), nobody's lifetime is over. The sweep that sends
  // the heartbeat has looked at the lifetimes first: once both have its heartbeat, it has run.
  await eventually(
    async () => Math.min(old.comments.length, young.comments.length),
    (n) => n >= 1,
    { what: 'the heartbeat of the sweep at +30 s' },
  );
  expect(old.comments.length).toBeGreaterThanOrEqual(1);
  expect(dropped).toEqual([]);
  now += 30_001;
  await old.ended;
  expect(dropped).toEqual(['lifetime']);
  // One more sweep, 5 s later on the clock (a heartbeat again): the young stream is still there.
  const heartbeats = young.comments.length;
  now += 5_000;
  await eventually(
    async () => young.comments.length,
    (n) => n > heartbeats,
    { what: 'the heartbeat of the sweep at +65 s' },
  );
  expect(stream.subscribers()).toBe(1);
  now += 30_000;
  await young.ended;
  expect(dropped).toEqual(['lifetime', 'lifetime']);
  expect(stream.subscribers()).toBe(0);
}, 10_000);

test('When a round brings no new price (the same price data, a later round time), then subscribers get no price event for it', async () => {
  const client = await openStream(`http://127.0.0.1:${server.port}/api/v1/prices/eth-usdt`);
  try {
    const current = await client.next((e) => e.event === 'price', 2000);
    // Every source failing: the refresher republishes the last good price with a new round time.
    for (let round = 1; round <= 3; round++)
      stream.publish({ ...first, updatedAtMs: first.updatedAtMs + round * 1000 });
    const moved: PriceSnapshot = {
      ...first,
      price: { ...(first.price as NonNullable<PriceSnapshot['price']>), price: '3500.5' },
      updatedAtMs: first.updatedAtMs + 4000,
    };
    stream.publish(moved);
    const next = await client.next((e) => e.event === 'price', 2000, client.events.indexOf(current) + 1);
    // The three repeats sent nothing: the next price event is the moved price, and ids never repeat.
    expect(JSON.parse(next.data)).toMatchObject({ price: '3500.5' });
    const ids = client.events.filter((e) => e.event === 'price').map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  } finally {
    client.close();
  }
});
