import { createRedisCache } from '../../src/infrastructure/cache/redis-cache';
import type { RedisTopology } from '../../src/infrastructure/redis/redis-client';
import { createLogger } from '../../src/shared/logger';
import { createMetrics } from '../../src/shared/metrics';
import { SNAPSHOT } from '../fixtures/snapshots';
import { eventually } from '../helpers/metrics';
import { startRedisCluster, type TestRedisCluster } from '../helpers/redis-topologies';

// A password-protected 3-master Cluster: REDIS_PASSWORD reaches every node the client is redirected to.
const PASSWORD = 'cluster-secret';
let cluster: TestRedisCluster;

beforeAll(async () => {
  cluster = await startRedisCluster({ password: PASSWORD });
}, 30_000);

afterAll(async () => {
  await cluster?.stop();
});

function cacheWith(password: string | undefined) {
  const topology: RedisTopology = {
    kind: 'cluster',
    nodes: cluster.ports.map((port) => ({ host: '127.0.0.1', port })),
    username: undefined,
    password,
    tls: false,
  };
  return createRedisCache(
    {
      topology,
      keyPrefix: 'auth:',
      commandTimeoutMs: 2000,
      snapshotTtlMs: 10_000,
      sourceResultTtlMs: 10_000,
    },
    {
      metrics: createMetrics({ pairs: ['eth-usdt'], defaultMetrics: false }),
      logger: createLogger({ level: 'error', service: 'test', silent: true }),
    },
  );
}

test('When REDIS_PASSWORD is the Cluster password, then snapshots are written and read back', async () => {
  const cache = cacheWith(PASSWORD);
  try {
    await eventually(
      async () => cache.status(),
      (s) => s === 'up',
      { what: 'cluster client ready' },
    );
    await cache.putSnapshot(SNAPSHOT);
    expect(await cache.getSnapshot('eth-usdt')).toStrictEqual(SNAPSHOT);
  } finally {
    await cache.close();
  }
});

test('When the password is wrong or missing, then the cache stays down and answers nothing, without throwing', async () => {
  for (const password of ['wrong', undefined]) {
    const cache = cacheWith(password);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(cache.status()).toBe('down');
      expect(await cache.getSnapshot('eth-usdt')).toBeUndefined();
      expect(await cache.acquireLease({ source: 'binance', pair: 'eth-usdt', epoch: 1 }, 1000)).toBe(
        'unavailable',
      );
    } finally {
      await cache.close();
    }
  }
});
