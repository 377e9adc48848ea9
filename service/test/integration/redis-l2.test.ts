import { Redis } from 'ioredis';
import { eventually, sample } from '../helpers/metrics';
import { startRedis, type TestRedis } from '../helpers/redis';
import { price, sharedRedisScenario, useRedisBackend } from '../helpers/redis-scenario';

// Real Redis (Testcontainers or a redis-server process) and the mock exchange, over sockets. The scenario
// every topology passes (helpers/redis-scenario.ts), then what only one node can show: Redis killed and back.
let redis: TestRedis;
const context = useRedisBackend(async () => {
  redis = await startRedis();
  process.stdout.write(`[redis] ${redis.runtime} on port ${redis.port}\n`);
  return {
    env: { REDIS_URL: redis.url },
    topology: { kind: 'single', url: redis.url },
    stop: () => redis.stop(),
  };
});

sharedRedisScenario(context);

test('When Redis is killed mid-test, then prices are still served with 200; when it is back, L2 is used again', async () => {
  const service = await context.start('kill:');
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
      () => client.get('kill:{eth-usdt}:snapshot'),
      (v) => v !== null,
      { what: 'snapshot in L2' },
    );
    expect(JSON.parse(stored as string)).toMatchObject({ v: 1, pair: 'eth-usdt' });
  } finally {
    client.disconnect();
  }
  expect((await price(service)).status).toBe(200);
}, 30_000);
