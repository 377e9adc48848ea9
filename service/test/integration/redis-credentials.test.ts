import { Redis } from 'ioredis';
import { createRedisCache } from '../../src/infrastructure/cache/redis-cache';
import type { RedisTopology } from '../../src/infrastructure/redis/redis-client';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { SNAPSHOT } from '../fixtures/snapshots';
import { eventually } from '../helpers/metrics';
import {
  startRedisCluster,
  startRedisSentinel,
  type TestRedisCluster,
  type TestSentinel,
} from '../helpers/redis-topologies';

// Password-protected setups: a 3-master Cluster (REDIS_PASSWORD reaches every node the client is redirected
// to) and a Sentinel whose sentinel has its own password (REDIS_SENTINEL_PASSWORD) beside the data nodes'.
const PASSWORD = 'data-secret';
const SENTINEL_PASSWORD = 'sentinel-secret';
let cluster: TestRedisCluster;
let sentinel: TestSentinel;

beforeAll(async () => {
  [cluster, sentinel] = await Promise.all([
    startRedisCluster({ password: PASSWORD }),
    startRedisSentinel({ password: PASSWORD, sentinelPassword: SENTINEL_PASSWORD }),
  ]);
}, 30_000);

afterAll(async () => {
  await Promise.all([cluster?.stop(), sentinel?.stop()]);
});

/** Commands the Cluster's nodes refused for authentication, over all nodes (Redis 7 INFO errorstats). */
async function refusals(): Promise<number> {
  let total = 0;
  for (const port of cluster.ports) {
    const admin = new Redis({ port, host: '127.0.0.1', password: PASSWORD, lazyConnect: true });
    try {
      await admin.connect();
      const stats = await admin.info('errorstats');
      for (const m of stats.matchAll(/^errorstat_(?:WRONGPASS|NOAUTH):count=(\d+)/gm)) total += Number(m[1]);
    } finally {
      admin.disconnect();
    }
  }
  return total;
}

function cacheWith(password: string | undefined) {
  return cacheOn({
    kind: 'cluster',
    nodes: cluster.ports.map((port) => ({ host: '127.0.0.1', port })),
    username: undefined,
    password,
    tls: false,
  });
}

function cacheOn(topology: RedisTopology) {
  return createRedisCache(
    {
      topology,
      keyPrefix: 'auth:',
      commandTimeoutMs: 2000,
      snapshotTtlMs: 10_000,
      sourceResultTtlMs: 10_000,
    },
    {
      metrics: createMetrics({ vocabulary: { pairs: ['eth-usdt'] }, defaultMetrics: false }),
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
    const refusedBefore = await refusals();
    const cache = cacheWith(password);
    try {
      // The nodes have refused the client (WRONGPASS, or NOAUTH without a password): it tried, and is down.
      await eventually(refusals, (n) => n > refusedBefore, { what: 'the cluster refusing the client' });
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

test('When the sentinel and the data nodes each have their password, then the master is found and used', async () => {
  const cache = cacheOn({
    kind: 'sentinel',
    sentinels: [{ host: '127.0.0.1', port: Number(sentinel.sentinels.split(':')[1]) }],
    name: sentinel.name,
    username: undefined,
    password: PASSWORD,
    sentinelUsername: undefined,
    sentinelPassword: SENTINEL_PASSWORD,
    tls: false,
  });
  try {
    await eventually(
      async () => cache.status(),
      (s) => s === 'up',
      { what: 'sentinel client ready' },
    );
    await cache.putSnapshot(SNAPSHOT);
    expect(await cache.getSnapshot('eth-usdt')).toStrictEqual(SNAPSHOT);
    expect(await cache.acquireLease({ source: 'okx', pair: 'eth-usdt', epoch: 7 }, 1000)).toBe('acquired');
    expect(await cache.acquireLease({ source: 'okx', pair: 'eth-usdt', epoch: 7 }, 1000)).toBe(
      'held_elsewhere',
    );
  } finally {
    await cache.close();
  }
});
