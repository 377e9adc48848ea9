import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { startMockExchange, type MockExchange } from '../../../mock-exchange/src/mock-exchange';
import { requestOnNewConnection, spawnCluster, type TestCluster } from '../helpers/cluster';
import { eventually, sample } from '../helpers/metrics';
import { startRedis } from '../helpers/redis';

// The real clustered process. Without Redis the primary holds the history and its two workers ask it over
// IPC; with Redis the workers read it there themselves.
let mock: MockExchange;
let cluster: TestCluster;

/** Waits until the history holds a point after `t`: from then on an answer at `t` is final. */
const finalAt = (t: number) =>
  eventually(
    () => request(`/api/v1/prices/eth-usdt/at/${t}`),
    (r) => r.status === 200 && (JSON.parse(r.body) as { final: boolean }).final,
    { what: 'a final answer at a past instant' },
  );

const request = (urlPath: string) => requestOnNewConnection(cluster.port, urlPath);

/** The same URL asked over ten connections: the distinct answers (one, when every worker agrees). */
async function answers(urlPath: string): Promise<Set<string>> {
  const results = await Promise.all(Array.from({ length: 10 }, () => request(urlPath)));
  return new Set(results.map((r) => `${r.status} ${r.body}`));
}

beforeAll(async () => {
  mock = await startMockExchange();
  cluster = await spawnCluster({ REFRESH_INTERVAL_MS: '250', MOCK_EXCHANGE_URL: mock.url });
}, 120_000);

afterAll(async () => {
  cluster?.kill();
  await mock?.close();
});

test('When a worker is respawned, then it serves the same history as the other, from before it existed', async () => {
  const t = Date.now();
  // The instant is past once the history holds a point after it: from then on the answer is final.
  const at = `/api/v1/prices/eth-usdt/at/${t}`;
  await finalAt(t);
  // Whole seconds, all closed by then (a range ending inside a second would take in its open candle).
  const second = Math.floor(t / 1_000) * 1_000;
  const candles = `/api/v1/prices/eth-usdt/candles?interval=1s&from=${second - 5_000}&to=${second}`;
  const before = { at: await answers(at), candles: await answers(candles) };
  expect(before.at.size).toBe(1);
  expect(before.candles.size).toBe(1);
  expect([...before.at][0]).toMatch(/^200 /);
  expect([...before.candles][0]).toMatch(/^200 /);

  const workers = spawnSync('pgrep', ['-P', String(cluster.proc.pid)])
    .stdout.toString()
    .trim()
    .split('\n');
  expect(workers).toHaveLength(2);
  process.kill(Number(workers[0]), 'SIGKILL');
  await eventually(
    () => cluster.metricsText(),
    (text) =>
      sample(text, 'cluster_worker_restarts_total') === 1 && sample(text, 'cluster_workers_alive') === 2,
    { what: 'the worker respawned' },
  );
  await eventually(
    () => request('/health/readiness'),
    (r) => r.status === 200,
  );
  expect(await answers(at)).toEqual(before.at);
  expect(await answers(candles)).toEqual(before.candles);
  // and what the primary wrote is counted once, by the primary
  const text = await cluster.metricsText();
  expect(
    sample(text, 'price_history_points_written_total', { pair: 'eth-usdt', result: 'written' }),
  ).toBeGreaterThan(0);
  expect(sample(text, 'price_history_points_written_total', { pair: 'eth-usdt', result: 'duplicate' })).toBe(
    0,
  );
});

test('When Redis is configured, then the workers serve the history the primary wrote there', async () => {
  const redis = await startRedis();
  const admin = new Redis(redis.url);
  const memoryCluster = cluster;
  try {
    cluster = await spawnCluster({
      REFRESH_INTERVAL_MS: '250',
      MOCK_EXCHANGE_URL: mock.url,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: 'cluster:',
    });
    const t = Date.now();
    await finalAt(t);
    const at = `/api/v1/prices/eth-usdt/at/${t}`;
    const seen = await answers(at);
    expect(seen.size).toBe(1);
    const [answer] = [...seen];
    // the point the workers served is the one in Redis
    const [[id, fields]] = (await admin.xrevrange(
      'cluster:{eth-usdt}:history:points',
      String(t),
      '-',
      'COUNT',
      1,
    )) as [[string, string[]]];
    const body = JSON.parse(answer!.slice(4)) as { since: string; price: string };
    expect(Date.parse(body.since)).toBe(Number(id.split('-')[0]));
    expect(JSON.parse(fields[1]!)[0]).toBe(body.price);
  } finally {
    cluster.kill();
    cluster = memoryCluster;
    admin.disconnect();
    await redis.stop();
  }
}, 120_000);
