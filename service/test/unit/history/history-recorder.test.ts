import { createHistoryRecorder } from '../../../src/application/history-recorder';
import type { PriceHistory } from '../../../src/application/price-history';
import type { PriceSnapshot } from '../../../src/application/price-snapshot';
import { createMemoryHistory } from '../../../src/infrastructure/history/memory-history';
import { createLogger } from '../../../src/observability/logger';
import { createMetrics } from '../../../src/observability/metrics';
import { SNAPSHOT, T } from '../../fixtures/snapshots';

const logger = createLogger({ level: 'error', service: 'test', silent: true });
const freshness = { freshnessMs: 5_000, maxStalenessMs: 60_000 };
const INTERVAL = 1_000;

/** A round published `seconds` after T at `price`, its price timestamp 300 ms before publishing. */
function round(seconds: number, price: string, changes: Partial<PriceSnapshot> = {}): PriceSnapshot {
  const at = T + seconds * 1_000 + 300;
  return {
    ...SNAPSHOT,
    price: { ...SNAPSHOT.price!, price, timestampMs: at - 300 },
    updatedAtMs: at,
    ...changes,
  };
}

/** A store that can be taken down: appends reject while it is down. */
function flakyStore(inner: PriceHistory) {
  let down = false;
  const attempts: number[] = [];
  const store: PriceHistory = {
    ...inner,
    append(pair, point) {
      attempts.push(point.t);
      return down ? Promise.reject(new Error('connection refused')) : inner.append(pair, point);
    },
  };
  return { store, attempts, setDown: (value: boolean) => (down = value) };
}

function setup(maxPending = 100) {
  const memory = createMemoryHistory(
    { pointsMs: 86_400_000, minutesMs: 86_400_000 },
    { maxInEffectMs: 60_000 },
  );
  const flaky = flakyStore(memory);
  const followers: ((s: PriceSnapshot) => void)[] = [];
  const metrics = createMetrics({ defaultMetrics: false, vocabulary: { pairs: ['eth-usdt'] } });
  let now = T;
  const recorder = createHistoryRecorder({
    history: flaky.store,
    feed: { follow: (f) => (followers.push(f), () => undefined) },
    freshness,
    refreshIntervalMs: INTERVAL,
    maxPending,
    metrics,
    logger,
    clock: () => now,
    retryDelayMs: () => 5,
  });
  const publish = (snapshot: PriceSnapshot) => {
    now = snapshot.updatedAtMs;
    for (const f of followers) f(snapshot);
  };
  const value = async (name: string, labels: Record<string, string> = {}) => {
    const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
    return metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
  };
  return { memory, flaky, recorder, publish, value };
}

describe('history recorder', () => {
  test('When rounds are published, then one point per round whose price data or status changed, timed at its epoch', async () => {
    const { memory, recorder, publish, value } = setup();
    publish(round(0, '3500.01'));
    publish(round(0, '3500.01')); // the same round again (IPC and L2)
    publish({ ...round(0, '3500.01'), updatedAtMs: T + 900 }); // republished in the same epoch
    publish(round(1, '3500.02'));
    publish({ ...round(1, '3500.02'), updatedAtMs: T + 2_300 }); // no new data: a republished round
    publish(round(3, '3500.02')); // same price, new timestamp: a new point
    // no quorum: the last price kept, now stale
    publish({ ...round(3, '3500.02'), updatedAtMs: T + 4_300, quorum: { used: 1, configured: 3, min: 2 } });
    await recorder.idle();
    const points = await memory.points('eth-usdt', T, T + 10_000);
    expect(points.map((p) => [p.t - T, 'price' in p ? p.price : '-', p.status])).toEqual([
      [0, '3500.01', 'ok'],
      [1_000, '3500.02', 'ok'],
      [3_000, '3500.02', 'ok'],
      [4_000, '3500.02', 'stale'],
    ]);
    expect(points[0]).toMatchObject({
      sources: [{ exchange: 'binance', state: 'used', mid: '3500.01' }, {}, {}],
    });
    expect(await value('price_history_points_written_total', { result: 'written' })).toBe(4);
  });

  test('When the price passes its maximum staleness, then an explicit end is recorded, once', async () => {
    const { memory, recorder, publish } = setup();
    publish(round(0, '3500.01'));
    const old = round(0, '3500.01');
    publish({ ...old, updatedAtMs: T + 61_000 }); // 61 s after the price: unavailable
    publish({ ...old, updatedAtMs: T + 62_000 });
    await recorder.idle();
    const points = await memory.points('eth-usdt', T, T + 100_000);
    expect(points.map((p) => [p.t - T, p.status])).toEqual([
      [0, 'ok'],
      [61_000, 'unavailable'],
    ]);
  });

  test('When the store is down, then points are held, counted, and written in order when it returns', async () => {
    const { memory, flaky, recorder, publish, value } = setup();
    publish(round(0, '1'));
    await recorder.idle();
    flaky.setDown(true);
    for (let s = 1; s <= 5; s++) publish(round(s, String(s + 1)));
    // the refresh never waits: publishing returned at once, and the points wait in memory
    expect(recorder.pending()).toBe(5);
    await new Promise<void>((resolve) => {
      const check = () => (flaky.attempts.length >= 4 ? resolve() : setTimeout(check, 5));
      check();
    });
    expect(await value('price_history_write_failures_total', { pair: 'eth-usdt' })).toBeGreaterThanOrEqual(3);
    expect(await value('price_history_points_pending')).toBe(5);
    flaky.setDown(false);
    await recorder.idle();
    const points = await memory.points('eth-usdt', T, T + 10_000);
    expect(points.map((p) => ('price' in p ? p.price : '-'))).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(await value('price_history_points_pending')).toBe(0);
    recorder.stop();
  });

  test('When more points are held than the bound, then the oldest are dropped and counted', async () => {
    const { memory, flaky, recorder, publish, value } = setup(3);
    flaky.setDown(true);
    for (let s = 0; s < 5; s++) publish(round(s, String(s + 1)));
    expect(recorder.pending()).toBe(3);
    expect(await value('price_history_points_dropped_total', { pair: 'eth-usdt' })).toBe(2);
    flaky.setDown(false);
    await recorder.idle();
    const points = await memory.points('eth-usdt', T, T + 10_000);
    expect(points.map((p) => ('price' in p ? p.price : '-'))).toEqual(['3', '4', '5']);
  });
});
