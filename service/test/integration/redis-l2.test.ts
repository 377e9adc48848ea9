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

  const rounds = async () => sample(await service.metricsText(), 'price_refresh_rounds_total') ?? 0;
  const roundsBefore = await rounds();
  await redis.kill();
  const statuses: number[] = [];
  // Requests one after another (20 ms apart) until more than 20 were answered, the service has seen Redis
  // go, and three refresh rounds have run without it (this was 2 s of requests).
  let down: string | undefined;
  const deadline = Date.now() + 60_000; // a deadline: a loaded box took 15 s for 17 requests
  for (;;) {
    statuses.push((await price(service)).status);
    const text = await service.metricsText();
    if (sample(text, 'redis_connection_up') === 0 && (await rounds()) >= roundsBefore + 3) down = text;
    if ((down !== undefined && statuses.length > 20) || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(statuses.length).toBeGreaterThan(20);
  expect(statuses.every((s) => s === 200)).toBe(true);
  expect(down).toBeDefined(); // else: the service never noticed Redis was gone
  expect(sample(down as string, 'redis_errors_total')).toBeGreaterThan(0);
  expect(sample(down as string, 'price_refresh_leases_total', { result: 'unavailable' })).toBeGreaterThan(0);
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
}, 120_000);
