import { Redis } from 'ioredis';
import {
  mockExchangeClient,
  startMockExchange,
  type MockExchange,
  type MockExchangeClient,
} from '../../../mock-exchange/src/mock-exchange';
import { createPriceReader } from '../../src/application/price-reader';
import { createMemoryCache } from '../../src/infrastructure/cache/memory-cache';
import { createRedisCache } from '../../src/infrastructure/cache/redis-cache';
import { createLogger } from '../../src/shared/logger';
import { createMetrics } from '../../src/shared/metrics';
import { eventually, sample } from '../helpers/metrics';
import { startRedis, type TestRedis } from '../helpers/redis';
import { startService, type TestService } from '../helpers/service';

// Real Redis (Testcontainers or a redis-server process) and the mock exchange, over sockets.
let redis: TestRedis;
let mock: MockExchange;
let control: MockExchangeClient;
const services: TestService[] = [];

const INTERVAL_MS = 200;
const SOURCES = ['binance', 'okx', 'coinbase', 'kraken', 'kucoin', 'bybit'] as const;

beforeAll(async () => {
  redis = await startRedis();
  process.stdout.write(`[redis] ${redis.runtime} on port ${redis.port}\n`);
  mock = await startMockExchange();
  control = mockExchangeClient(mock.url);
});

afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.stop()));
  await control.clearFault('*');
});

afterAll(async () => {
  await mock?.close();
  await redis?.stop();
});

async function start(prefix: string): Promise<TestService> {
  const service = await startService({
    MOCK_EXCHANGE_URL: mock.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: prefix,
    REFRESH_INTERVAL_MS: String(INTERVAL_MS),
  });
  services.push(service);
  return service;
}

const price = async (service: TestService) => {
  const response = await fetch(`${service.url}/api/v1/prices/eth-usdt`);
  return { status: response.status, body: (await response.json()) as { status?: string; price?: string } };
};

test('When two replicas share a Redis, then each source is fetched at most once per refresh interval', async () => {
  const [a, b] = [await start('single-flight:'), await start('single-flight:')];
  await eventually(
    () => price(b as TestService),
    (p) => p.status === 200,
    { what: 'replica b serving' },
  );
  const before = await control.counters();
  const started = Date.now();
  // Both replicas also take concurrent API load meanwhile: reads never reach the exchanges.
  const load = Array.from({ length: 200 }, (_, i) => price((i % 2 ? a : b) as TestService));
  await Promise.all(load);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const after = await control.counters();
  const elapsed = Date.now() - started;
  const intervals = Math.ceil(elapsed / INTERVAL_MS) + 1;
  for (const source of SOURCES) {
    const calls = after[source] - before[source];
    expect(calls).toBeLessThanOrEqual(intervals);
    expect(calls).toBeGreaterThanOrEqual(Math.floor(intervals / 2)); // and it is still being refreshed
  }
  const [ma, mb] = [await (a as TestService).metricsText(), await (b as TestService).metricsText()];
  const acquired = (t: string) => sample(t, 'price_refresh_leases_total', { result: 'acquired' }) ?? 0;
  const elsewhere = (t: string) => sample(t, 'price_refresh_leases_total', { result: 'held_elsewhere' }) ?? 0;
  expect(acquired(ma) + acquired(mb)).toBeGreaterThan(0);
  expect(elsewhere(ma) + elsewhere(mb)).toBeGreaterThan(0);
  process.stdout.write(
    `[single-flight] ${elapsed} ms (${intervals} intervals of ${INTERVAL_MS} ms), 2 replicas: calls per source ${JSON.stringify(
      Object.fromEntries(SOURCES.map((s) => [s, after[s] - before[s]])),
    )}\n`,
  );
}, 20_000);

test('When Redis is killed mid-test, then prices are still served with 200; when it is back, L2 is used again', async () => {
  const service = await start('kill:');
  await eventually(
    () => price(service),
    (p) => p.status === 200 && p.body.status === 'ok',
    { what: 'serving' },
  );
  await eventually(service.metricsText, (t) => sample(t, 'redis_connection_up') === 1, { what: 'redis up' });

  await redis.kill();
  const statuses: number[] = [];
  const until = Date.now() + 2000;
  while (Date.now() < until) {
    statuses.push((await price(service)).status);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(statuses.length).toBeGreaterThan(20);
  expect(statuses.every((s) => s === 200)).toBe(true);
  const down = await eventually(service.metricsText, (t) => sample(t, 'redis_connection_up') === 0, {
    what: 'redis down',
  });
  expect(sample(down, 'redis_errors_total')).toBeGreaterThan(0);
  expect(sample(down, 'price_refresh_leases_total', { result: 'unavailable' })).toBeGreaterThan(0);
  const readiness = await fetch(`${service.url}/health/readiness`);
  expect(readiness.status).toBe(200); // Redis down does not make the replica unready
  expect(((await readiness.json()) as { redis: string }).redis).toBe('down');

  await redis.restart();
  const leasesBefore =
    sample(await service.metricsText(), 'price_refresh_leases_total', { result: 'acquired' }) ?? 0;
  await eventually(service.metricsText, (t) => sample(t, 'redis_connection_up') === 1, {
    what: 'redis back',
    timeoutMs: 8000,
  });
  await eventually(
    service.metricsText,
    (t) => (sample(t, 'price_refresh_leases_total', { result: 'acquired' }) ?? 0) > leasesBefore,
    { what: 'leases taken in Redis again' },
  );
  const client = new Redis(redis.url);
  try {
    const stored = await eventually(
      () => client.get('kill:snapshot:eth-usdt'),
      (v) => v !== null,
      { what: 'snapshot in L2' },
    );
    expect(JSON.parse(stored as string)).toMatchObject({ v: 1, pair: 'eth-usdt' });
  } finally {
    client.disconnect();
  }
  expect((await price(service)).status).toBe(200);
}, 30_000);

describe('a cold reader (a new worker) and L2', () => {
  const logger = createLogger({ level: 'error', service: 'test', silent: true });

  async function coldReader(prefix: string) {
    const metrics = createMetrics({ pairs: ['eth-usdt'], defaultMetrics: false });
    const l2 = createRedisCache(
      {
        url: redis.url,
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

  test('When L1 is empty, then the snapshot another process wrote to Redis is served from L2', async () => {
    const service = await start('cold:');
    await eventually(
      () => price(service),
      (p) => p.status === 200,
      { what: 'serving' },
    );
    const { reader, metrics, close } = await coldReader('cold:');
    try {
      await eventually(
        async () => (await reader.load('eth-usdt'))?.price?.price,
        (p) => p !== undefined,
        { what: 'L2 hit' },
      );
      expect(
        sample(await metrics.registry.metrics(), 'price_cache_lookups_total', { tier: 'l2', result: 'hit' }),
      ).toBeGreaterThan(0);
    } finally {
      await close();
    }
  });

  test('When the value in Redis is poisoned, then it is rejected and counted, never served', async () => {
    const client = new Redis(redis.url);
    const { reader, metrics, close } = await coldReader('poison:');
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
        await client.set('poison:snapshot:eth-usdt', value);
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
      client.disconnect();
      await close();
    }
  });
});
