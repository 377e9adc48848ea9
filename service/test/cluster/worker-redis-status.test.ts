import { startMockExchange, type MockExchange } from '../../../mock-exchange/src/mock-exchange';
import { requestOnNewConnection, spawnCluster, type TestCluster } from '../helpers/cluster';
import { eventually, sample } from '../helpers/metrics';
import { startRedis, type TestRedis } from '../helpers/redis';

// Workers hold no Redis connection: the primary tells them what its connection does, and readiness in every
// worker reports that. The Redis gauge is the primary's alone, so a worker starting or leaving moves nothing.
let mock: MockExchange;
let redis: TestRedis;
let cluster: TestCluster;

beforeAll(async () => {
  mock = await startMockExchange();
  redis = await startRedis();
  cluster = await spawnCluster({ MOCK_EXCHANGE_URL: mock.url, REDIS_URL: redis.url });
}, 60_000);

afterAll(async () => {
  cluster?.kill();
  await redis?.stop();
  await mock?.close();
});

/** What readiness says of Redis over ten new connections (both workers answer some). */
async function redisStatuses(): Promise<Set<string>> {
  const answers = await Promise.all(
    Array.from({ length: 10 }, () => requestOnNewConnection(cluster.port, '/health/readiness')),
  );
  return new Set(answers.map((r) => (JSON.parse(r.body) as { redis: string }).redis));
}

test('When Redis goes and comes back, then every worker readiness says so, following the primary connection', async () => {
  await eventually(redisStatuses, (seen) => seen.size === 1 && seen.has('up'), { what: 'redis up' });
  expect(sample(await cluster.metricsText(), 'redis_connection_up')).toBe(1);

  await redis.kill();
  await eventually(redisStatuses, (seen) => seen.size === 1 && seen.has('down'), { what: 'redis down' });
  expect(sample(await cluster.metricsText(), 'redis_connection_up')).toBe(0);

  await redis.restart();
  await eventually(redisStatuses, (seen) => seen.size === 1 && seen.has('up'), {
    what: 'redis back',
    timeoutMs: 15_000,
  });
  expect(sample(await cluster.metricsText(), 'redis_connection_up')).toBe(1);
}, 60_000);
