import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { startMockExchange, type MockExchange } from '../../../mock-exchange/src/mock-exchange';
import { spawnCluster, type TestCluster } from '../helpers/cluster';
import { eventually, sample } from '../helpers/metrics';

// The real clustered process without Redis: the primary holds the history, its two workers ask it over IPC.
let mock: MockExchange;
let cluster: TestCluster;

/** A new TCP connection per request, so the cluster's round robin spreads them over the workers. */
function request(urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: cluster.port, path: urlPath, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

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
  await eventually(
    () => request(at),
    (r) => r.status === 200 && (JSON.parse(r.body) as { final: boolean }).final,
    { what: 'a final answer at a past instant' },
  );
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
