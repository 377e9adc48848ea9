import {
  mockExchangeClient,
  startMockExchange,
  type MockExchange,
  type MockExchangeClient,
} from '../../../mock-exchange/src/mock-exchange';
import { createPriceReader } from '../../src/application/price-reader';
import { createMemoryCache } from '../../src/infrastructure/cache/memory-cache';
import { createRedisCache } from '../../src/infrastructure/cache/redis-cache';
import {
  createRedisClient,
  type RedisClient,
  type RedisTopology,
} from '../../src/infrastructure/redis/redis-client';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { eventually, sample } from './metrics';
import { startService, type TestService } from './service';

/** One way of running Redis for the shared scenario: one node, a Cluster, … */
export interface RedisBackend {
  /** What the service is given to use it (REDIS_URL, or REDIS_CLUSTER_NODES, …). */
  readonly env: Readonly<Record<string, string>>;
  readonly topology: RedisTopology;
  stop(): Promise<void>;
}

export const INTERVAL_MS = 200;
export const SOURCES = ['binance', 'okx', 'coinbase', 'kraken', 'kucoin', 'bybit'] as const;

export interface ScenarioContext {
  readonly backend: RedisBackend;
  readonly mock: MockExchange;
  readonly control: MockExchangeClient;
  /** A service replica on this Redis (stopped after each test). */
  start(prefix: string, env?: Record<string, string>): Promise<TestService>;
  /** A plain client on this Redis, to look at or poison keys (closed after each test). */
  client(): RedisClient;
}

export const price = async (service: TestService) => {
  const response = await fetch(`${service.url}/api/v1/prices/eth-usdt`);
  return { status: response.status, body: (await response.json()) as { status?: string; price?: string } };
};

/**
 * Registers the hooks that start the backend and the mock exchange for this file, stop every replica after
 * each test and everything in afterAll. The context is filled in by beforeAll.
 */
export function useRedisBackend(startBackend: () => Promise<RedisBackend>): ScenarioContext {
  const services: TestService[] = [];
  const clients: RedisClient[] = [];
  const context = {} as { -readonly [K in keyof ScenarioContext]: ScenarioContext[K] };
  beforeAll(async () => {
    context.backend = await startBackend();
    context.mock = await startMockExchange();
    context.control = mockExchangeClient(context.mock.url);
  }, 30_000);
  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.stop()));
    for (const client of clients.splice(0)) client.disconnect();
    await context.control.clearFault('*');
  });
  afterAll(async () => {
    await context.mock?.close();
    await context.backend?.stop();
  });
  context.start = async (prefix, env = {}) => {
    const service = await startService({
      MOCK_EXCHANGE_URL: context.mock.url,
      ...context.backend.env,
      REDIS_KEY_PREFIX: prefix,
      REFRESH_INTERVAL_MS: String(INTERVAL_MS),
      ...env,
    });
    services.push(service);
    return service;
  };
  context.client = () => {
    // The factory's fail-soft client with a generous command timeout: callers wait for ready() first.
    const client = createRedisClient({ topology: context.backend.topology, commandTimeoutMs: 2000 });
    clients.push(client);
    return client;
  };
  return context;
}

/** Waits until a plain client of the backend answers (a Cluster needs its slot map first). */
export async function ready(client: RedisClient): Promise<void> {
  await eventually(
    async () => client.status,
    (status) => status === 'ready',
    { what: 'redis client ready' },
  );
}

/**
 * The scenario every Redis topology must pass, as single-node Redis does: the cluster-wide single flight
 * across two replicas, a cold reader served from L2 under the pair's hash-tagged key, poisoned values
 * rejected.
 */
export function sharedRedisScenario(context: ScenarioContext): void {
  test('When two replicas share the Redis, then each source is fetched at most once per refresh interval', async () => {
    const [a, b] = [await context.start('single-flight:'), await context.start('single-flight:')];
    await eventually(
      () => price(b),
      (p) => p.status === 200,
      { what: 'replica b serving' },
    );
    const leasesUnavailable = async () => {
      const [ma, mb] = [await a.metricsText(), await b.metricsText()];
      const of = (t: string, source: string) =>
        sample(t, 'price_refresh_leases_total', { source, result: 'unavailable' }) ?? 0;
      return Object.fromEntries(SOURCES.map((s) => [s, of(ma, s) + of(mb, s)]));
    };
    const unavailableBefore = await leasesUnavailable();
    const before = await context.control.counters();
    const started = Date.now();
    // Both replicas also take concurrent API load meanwhile: reads never reach the exchanges.
    await Promise.all(Array.from({ length: 200 }, (_, i) => price(i % 2 ? a : b)));
    // Measured over at least 15 fetches of every source (about 3 s of refreshing on a quiet box).
    const after = await eventually(
      () => context.control.counters(),
      (now) => SOURCES.every((source) => now[source] - before[source] >= 15),
      { what: '15 fetches of every source', timeoutMs: 30_000 },
    );
    const elapsed = Date.now() - started;
    const unavailableAfter = await leasesUnavailable();
    const intervals = Math.ceil(elapsed / INTERVAL_MS) + 1;
    for (const source of SOURCES) {
      const calls = after[source] - before[source];
      // A lease Redis did not answer in time (a busy machine) is fetched locally by design: fail soft, one
      // extra call each. Beyond those, at most one call per interval.
      const unanswered = (unavailableAfter[source] ?? 0) - (unavailableBefore[source] ?? 0);
      // (That it is still refreshed is the wait above: 15 fetches of every source.)
      expect({ source, calls, within: calls <= intervals + unanswered }).toEqual({
        source,
        calls,
        within: true,
      });
    }
    const [ma, mb] = [await a.metricsText(), await b.metricsText()];
    const acquired = (t: string) => sample(t, 'price_refresh_leases_total', { result: 'acquired' }) ?? 0;
    const elsewhere = (t: string) =>
      sample(t, 'price_refresh_leases_total', { result: 'held_elsewhere' }) ?? 0;
    expect(acquired(ma) + acquired(mb)).toBeGreaterThan(0);
    expect(elsewhere(ma) + elsewhere(mb)).toBeGreaterThan(0);
    process.stdout.write(
      `[single-flight ${context.backend.topology.kind}] ${elapsed} ms (${intervals} intervals of ${INTERVAL_MS} ms), 2 replicas: calls per source ${JSON.stringify(
        Object.fromEntries(SOURCES.map((s) => [s, after[s] - before[s]])),
      )}\n`,
    );
  }, 60_000);

  describe('a cold reader (a new worker) and L2', () => {
    const logger = createLogger({ level: 'error', service: 'test', silent: true });

    function coldReader(prefix: string) {
      const metrics = createMetrics({ vocabulary: { pairs: ['eth-usdt'] }, defaultMetrics: false });
      const l2 = createRedisCache(
        {
          topology: context.backend.topology,
          keyPrefix: prefix,
          commandTimeoutMs: 2000, // generous: a slow shared CI box must not turn a GET into an error here
          snapshotTtlMs: 10_000,
          sourceResultTtlMs: 10_000,
        },
        { metrics, logger },
      );
      const l1 = createMemoryCache({ maxStalenessMs: 10_000 });
      return {
        reader: createPriceReader({ l1, l2, counters: metrics }),
        metrics,
        close: () => (l1.close(), l2.close()),
      };
    }

    test("When L1 is empty, then the snapshot another process wrote to Redis is served from L2, stored under the pair's hash tag", async () => {
      const service = await context.start('cold:');
      await eventually(
        () => price(service),
        (p) => p.status === 200,
        { what: 'serving' },
      );
      const client = context.client();
      await ready(client);
      const stored = await eventually(
        () => client.get('cold:{eth-usdt}:snapshot'),
        (v) => v !== null,
        { what: 'snapshot in L2' },
      );
      expect(JSON.parse(stored as string)).toMatchObject({ v: 1, pair: 'eth-usdt' });
      const { reader, metrics, close } = coldReader('cold:');
      try {
        await eventually(
          async () => (await reader.load('eth-usdt'))?.price?.price,
          (p) => p !== undefined,
          { what: 'L2 hit' },
        );
        expect(
          sample(await metrics.registry.metrics(), 'price_cache_lookups_total', {
            tier: 'l2',
            result: 'hit',
          }),
        ).toBeGreaterThan(0);
      } finally {
        await close();
      }
    });

    test('When the value in Redis is poisoned, then it is rejected and counted, never served', async () => {
      const client = context.client();
      await ready(client);
      const { reader, metrics, close } = coldReader('poison:');
      try {
        const poisoned = [
          'not json',
          JSON.stringify({
            v: 1,
            pair: 'eth-usdt',
            symbol: 'ETH/USDT',
            price: { price: 3500.1, bid: '1', ask: '2', confidence: '0', timestampMs: 1 },
          }),
          JSON.stringify({ v: 2, pair: 'eth-usdt' }),
        ];
        const rejected = async () =>
          sample(await metrics.registry.metrics(), 'price_cache_lookups_total', {
            tier: 'l2',
            result: 'rejected',
          }) ?? 0;
        for (const [index, value] of poisoned.entries()) {
          await client.set('poison:{eth-usdt}:snapshot', value);
          // Each load either rejects the value or (on a transient Redis error) finds nothing: never serves it.
          await eventually(
            async () => {
              expect(await reader.load('eth-usdt')).toBeUndefined();
              expect(reader.current('eth-usdt')).toBeUndefined();
              return rejected();
            },
            (count) => count === index + 1,
            { what: `poisoned value ${index} rejected` },
          );
        }
        expect(await rejected()).toBe(poisoned.length);
      } finally {
        await close();
      }
    });
  });
}
