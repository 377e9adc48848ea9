import { Redis } from 'ioredis';
import { createHistoryRecorder } from '../../src/application/history-recorder';
import type { PriceHistory } from '../../src/application/price-history';
import type { PriceSnapshot } from '../../src/application/price-snapshot';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { SNAPSHOT, T } from '../fixtures/snapshots';
import { encodePoint } from '../../src/infrastructure/history/history-codec';
import { createRedisHistory } from '../../src/infrastructure/history/redis-history';
import { CONTRACT_RETENTION, CONTRACT_RULES, historyContract, walkPoints } from '../helpers/history-contract';
import { startRedis, type TestRedis } from '../helpers/redis';

// A real Redis (a redis-server process or a container): the contract every store passes, then what only a
// shared store shows: two replicas store each point once.
let redis: TestRedis;
let admin: Redis;
let prefixes = 0;
const open: PriceHistory[] = [];

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
});
afterAll(async () => {
  await Promise.all(open.map((h) => h.close()));
  admin.disconnect();
  await redis.stop();
});

/** A store on the test Redis under its own key prefix (a fresh, empty history). */
function store(prefix = `t${++prefixes}:`, closedByCaller = false): PriceHistory {
  const history = createRedisHistory({
    topology: { kind: 'single', url: redis.url },
    keyPrefix: prefix,
    commandTimeoutMs: 2_000,
    retention: CONTRACT_RETENTION,
    rules: CONTRACT_RULES,
  });
  if (!closedByCaller) open.push(history);
  return history;
}

/** ioredis connects asynchronously and has no offline queue: wait for it like the service does. */
async function ready(history: PriceHistory): Promise<PriceHistory> {
  for (;;) {
    try {
      await history.oldest('warm-up');
      return history;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

historyContract('redis', () => ready(store(undefined, true)));

describe('redis: shared by replicas', () => {
  test('When two replicas append the same rounds, then each point and each minute is stored exactly once', async () => {
    const [a, b] = [await ready(store('shared:')), await ready(store('shared:'))];
    const start = 1_700_000_040_000;
    const points = walkPoints(start, start + 10 * 60_000, 5);
    const results = { a: [] as string[], b: [] as string[] };
    for (const point of points) {
      // both publish every round, in either order
      const [first, second] = point.t % 2 === 0 ? [a, b] : [b, a];
      const r1 = await first.append('eth-usdt', point);
      const r2 = await second.append('eth-usdt', point);
      (first === a ? results.a : results.b).push(r1);
      (second === a ? results.a : results.b).push(r2);
    }
    const all = [...results.a, ...results.b];
    expect(all.filter((r) => r === 'written')).toHaveLength(points.length);
    expect(all.filter((r) => r === 'duplicate')).toHaveLength(points.length);
    expect(await admin.xlen('shared:{eth-usdt}:history:points')).toBe(points.length);
    const minuteIds = (await admin.xrange('shared:{eth-usdt}:history:minutes', '-', '+')).map(([id]) => id);
    expect(new Set(minuteIds).size).toBe(minuteIds.length);
    expect(minuteIds.length).toBeGreaterThanOrEqual(8);
    // either replica answers the same history
    expect(await a.candles('eth-usdt', start, start + 600_000, 300_000)).toEqual(
      await b.candles('eth-usdt', start, start + 600_000, 300_000),
    );
  });

  test('When a value in the streams is malformed, then it is refused, never served', async () => {
    const history = await ready(store('poison:'));
    await history.append('eth-usdt', { t: 1_000, price: '10', status: 'ok' });
    await admin.xadd('poison:{eth-usdt}:history:points', '2000-0', 'v', '["1e3","ok",[]]');
    await admin.xadd('poison:{eth-usdt}:history:points', '3000-0', 'v', '{"price":"5"}');
    expect((await history.pointAt('eth-usdt', 2_500))?.price).toBeUndefined();
    expect((await history.points('eth-usdt', 0, 10_000)).map((p) => p.t)).toEqual([1_000]);
  });

  test('When an append timed out but Redis ran it, then its retry, refused, still closes the minutes it ends', async () => {
    const history = await ready(store('late:'));
    await history.append('eth-usdt', { t: 90_000, price: '10', status: 'ok' });
    // the point of the next minute, stored by Redis after the client stopped waiting for the answer
    const late = { t: 121_000, price: '11', status: 'ok' } as const;
    await admin.xadd('late:{eth-usdt}:history:points', '121000-0', 'v', encodePoint(late));
    expect(await history.append('eth-usdt', late)).toBe('duplicate');
    expect((await admin.xrange('late:{eth-usdt}:history:minutes', '-', '+')).map(([id]) => id)).toEqual([
      '60000-0',
    ]);
  });

  test('When the keys are listed, then they carry the pair hash tag after the prefix', async () => {
    const history = await ready(store('tags:'));
    await history.append('btc-usdt', { t: 60_000, price: '1', status: 'ok' });
    await history.append('btc-usdt', { t: 120_000, price: '2', status: 'ok' });
    expect((await admin.keys('tags:*')).sort()).toEqual([
      'tags:{btc-usdt}:history:minutes',
      'tags:{btc-usdt}:history:points',
    ]);
  });
});

describe('redis: nothing lost through an outage', () => {
  test('When Redis is killed while rounds are published, then the held points are written in order when it is back', async () => {
    const history = await ready(store('outage:'));
    const followers: ((s: PriceSnapshot) => void)[] = [];
    const recorder = createHistoryRecorder({
      history,
      feed: { follow: (f) => (followers.push(f), () => undefined) },
      freshness: { freshnessMs: 5_000, maxStalenessMs: 60_000 },
      refreshIntervalMs: 1_000,
      maxPending: 100,
      metrics: createMetrics({ defaultMetrics: false }),
      logger: createLogger({ level: 'error', service: 'test', silent: true }),
      retryDelayMs: () => 50,
    });
    const publish = (second: number) => {
      const at = T + second * 1_000 + 300;
      const snapshot = {
        ...SNAPSHOT,
        price: { ...SNAPSHOT.price!, price: `3500.${second}`, timestampMs: at - 300 },
      };
      for (const f of followers) f({ ...snapshot, updatedAtMs: at });
    };
    await redis.kill();
    for (let second = 0; second < 10; second++) publish(second);
    expect(recorder.pending()).toBe(10);
    await redis.restart();
    await recorder.idle();
    recorder.stop();
    const stored = await ready(store('outage:'));
    const points = await stored.points('eth-usdt', T, T + 60_000);
    expect(points.map((p) => [p.t - T, 'price' in p ? p.price : '-'])).toEqual(
      Array.from({ length: 10 }, (_, s) => [s * 1_000, `3500.${s}`]),
    );
  });
});
