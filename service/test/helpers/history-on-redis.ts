import { Cluster, Redis } from 'ioredis';
import { createHistoryRecorder, type HistoryRecorder } from '../../src/application/history-recorder';
import type { AppendResult, PriceHistory } from '../../src/application/price-history';
import type { PriceSnapshot } from '../../src/application/price-snapshot';
import { createRedisHistory } from '../../src/infrastructure/history/redis-history';
import type { RedisClient, RedisTopology } from '../../src/infrastructure/redis/redis-client';
import { createLogger } from '../../src/observability/logger';
import { SNAPSHOT, T } from '../fixtures/snapshots';
import { CONTRACT_RETENTION, CONTRACT_RULES, historyContract, walkPoints } from './history-contract';

// The Redis history store on any topology (one node, Sentinel, Cluster): what every test file of it needs,
// and the checks that hold on all of them. Each file starts its own Redis setup and adds what only it shows.

/** A Redis setup for one test file. */
export interface HistoryRedisBackend {
  readonly topology: RedisTopology;
  stop(): Promise<void>;
}

export interface HistoryRedisContext {
  readonly topology: RedisTopology;
  /** A plain client with an offline queue (its commands wait for a connection), to look at keys. */
  readonly admin: RedisClient;
  /** A store under `prefix` (a fresh, empty history by default), closed after the file unless the caller does. */
  store(prefix?: string, closedByCaller?: boolean): PriceHistory;
  /** A store once its client is connected: ioredis connects asynchronously and has no offline queue. */
  ready(prefix?: string, closedByCaller?: boolean): Promise<PriceHistory>;
}

/** A client that waits for its connection (unlike the service's), on the same topology. */
function adminClient(topology: RedisTopology): RedisClient {
  const client = connect(topology);
  // Reconnects (a failover, a killed node) are expected: without a listener ioredis logs each as unhandled.
  client.on('error', () => undefined);
  return client;
}

function connect(topology: RedisTopology): RedisClient {
  switch (topology.kind) {
    case 'single':
      return new Redis(topology.url);
    case 'sentinel':
      return new Redis({
        sentinels: topology.sentinels.map(({ host, port }) => ({ host, port })),
        name: topology.name,
        password: topology.password,
        sentinelPassword: topology.sentinelPassword,
      });
    case 'cluster':
      return new Cluster(
        topology.nodes.map(({ host, port }) => ({ host, port })),
        { redisOptions: { password: topology.password } },
      );
  }
}

/** Registers the hooks that start the backend for this file and close every store, the admin and it after. */
export function useHistoryRedis(startBackend: () => Promise<HistoryRedisBackend>): HistoryRedisContext {
  let backend: HistoryRedisBackend | undefined;
  let admin: RedisClient | undefined;
  let prefixes = 0;
  const open: PriceHistory[] = [];
  beforeAll(async () => {
    backend = await startBackend();
    admin = adminClient(backend.topology);
  }, 30_000);
  afterAll(async () => {
    await Promise.all(open.map((h) => h.close()));
    admin?.disconnect();
    await backend?.stop();
  });

  const context: HistoryRedisContext = {
    get topology() {
      if (backend === undefined) throw new Error('the Redis backend is not started (beforeAll failed?)');
      return backend.topology;
    },
    get admin() {
      if (admin === undefined) throw new Error('the Redis backend is not started (beforeAll failed?)');
      return admin;
    },
    store(prefix = `t${++prefixes}:`, closedByCaller = false) {
      const history = createRedisHistory({
        topology: context.topology,
        keyPrefix: prefix,
        commandTimeoutMs: 2_000,
        retention: CONTRACT_RETENTION,
        rules: CONTRACT_RULES,
      });
      if (!closedByCaller) open.push(history);
      return history;
    },
    async ready(prefix, closedByCaller) {
      const history = context.store(prefix, closedByCaller);
      for (;;) {
        try {
          await history.oldest('warm-up');
          return history;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    },
  };
  return context;
}

/**
 * What the store does on every topology: the contract every PriceHistory passes, and what only a shared
 * store shows, replicas appending the same rounds storing each point and minute once.
 */
export function redisHistoryChecks(name: string, context: HistoryRedisContext): void {
  historyContract(name, () => context.ready(undefined, true));
  describe(`${name}: shared by replicas`, () => {
    test('When two replicas append the same rounds, then each point and each minute is stored exactly once', async () => {
      const [a, b] = [await context.ready('shared:'), await context.ready('shared:')];
      const start = 1_700_000_040_000;
      const points = walkPoints(start, start + 10 * 60_000, 5);
      const results: AppendResult[] = [];
      for (const point of points) {
        // both publish every round, in either order
        const [first, second] = point.t % 2 === 0 ? [a, b] : [b, a];
        results.push(await first.append('eth-usdt', point), await second.append('eth-usdt', point));
      }
      expect(results.filter((r) => r === 'written')).toHaveLength(points.length);
      expect(results.filter((r) => r === 'duplicate')).toHaveLength(points.length);
      const stored = await context.admin.xrange('shared:{eth-usdt}:history:points', '-', '+');
      expect(stored.map(([id]) => Number(id.split('-')[0]))).toEqual(points.map((p) => p.t));
      const minuteIds = (await context.admin.xrange('shared:{eth-usdt}:history:minutes', '-', '+')).map(
        ([id]) => id,
      );
      expect(new Set(minuteIds).size).toBe(minuteIds.length);
      expect(minuteIds.length).toBeGreaterThanOrEqual(8);
      // either replica answers the same history
      expect(await a.candles('eth-usdt', start, start + 600_000, 300_000)).toEqual(
        await b.candles('eth-usdt', start, start + 600_000, 300_000),
      );
    });
  });
}

/** How one recorder's writes went, from the metrics it reports. */
export interface RecorderCounts {
  written: number;
  duplicate: number;
  failed: number;
  dropped: number;
}

/**
 * A history recorder (as a replica runs it) on `history`, fed by hand: `publish(second)` publishes the
 * round at T + second s with the price `3500.<second>`, timed like the refresher times it. Retries after
 * 50 ms, so a store that is back is noticed at once.
 */
export function recordRounds(history: PriceHistory): {
  recorder: HistoryRecorder;
  publish(second: number): void;
  counts: RecorderCounts;
} {
  const followers: ((s: PriceSnapshot) => void)[] = [];
  const counts: RecorderCounts = { written: 0, duplicate: 0, failed: 0, dropped: 0 };
  const recorder = createHistoryRecorder({
    history,
    feed: { follow: (f) => (followers.push(f), () => undefined) },
    freshness: { freshnessMs: 5_000, maxStalenessMs: 60_000 },
    refreshIntervalMs: 1_000,
    maxPending: 100,
    metrics: {
      historyWritten: (_pair, result) => void counts[result as 'written' | 'duplicate']++,
      historyWriteFailed: () => void counts.failed++,
      historyDropped: () => void counts.dropped++,
      historyPending: () => undefined,
      historyWriteLag: () => undefined,
      historyOldest: () => undefined,
    },
    logger: createLogger({ level: 'error', service: 'test', silent: true }),
    retryDelayMs: () => 50,
  });
  const publish = (second: number) => {
    const at = T + second * 1_000 + 300;
    const snapshot = {
      ...SNAPSHOT,
      price: { ...SNAPSHOT.price!, price: roundPrice(second), timestampMs: at - 300 },
    };
    for (const f of followers) f({ ...snapshot, updatedAtMs: at });
  };
  return { recorder, publish, counts };
}

/** The price `recordRounds` publishes in a round. */
const roundPrice = (second: number) => `3500.${second}`;

/** Rounds 0 … count-1 of `recordRounds` are in the store, each once, in order, with their prices. */
export async function expectRoundsStored(history: PriceHistory, count: number): Promise<void> {
  const points = await history.points('eth-usdt', T, T + 3_600_000);
  expect(points.map((p) => [(p.t - T) / 1_000, 'price' in p ? p.price : '-'])).toEqual(
    Array.from({ length: count }, (_, s) => [s, roundPrice(s)]),
  );
}
