import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMockExchange, type MockExchange } from '../../../mock-exchange/src/mock-exchange';
import { requestOnNewConnection, spawnCluster } from '../helpers/cluster';
import { eventually } from '../helpers/metrics';
import { startRedis, type TestRedis } from '../helpers/redis';

// What a cluster worker loads, read from the worker itself: it serves from the primary's snapshots, reads L2
// through the primary and takes the primary's config, so the exchange clients and the settings' schemas are
// the primary's alone (docs/performance-accounting.md, Memory). With Redis configured it loads the Redis
// client for its history reads; its rate limiter, when it counts in Redis, loads its store too: that case
// also shows the check sees a library when it is there.

const PRELOAD = path.resolve(__dirname, '../fixtures/preload/report-loaded-modules.cjs');
const PRIMARY_ONLY = ['axios', 'axios-retry', 'opossum', 'zod', 'rate-limiter-flexible'];

let mock: MockExchange;
let redis: TestRedis;

beforeAll(async () => {
  mock = await startMockExchange();
  redis = await startRedis();
}, 60_000);

afterAll(async () => {
  await redis?.stop();
  await mock?.close();
});

/** The packages under node_modules each worker of a cluster started with `env` has loaded, once it served. */
async function packagesLoadedByWorkers(env: Record<string, string>): Promise<Set<string>[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'worker-modules-'));
  const cluster = await spawnCluster({
    MOCK_EXCHANGE_URL: mock.url,
    REDIS_URL: redis.url,
    REFRESH_INTERVAL_MS: '250',
    NODE_OPTIONS: `--require ${PRELOAD}`,
    LOADED_MODULES_DIR: dir,
    ...env,
  });
  try {
    // Every route family a worker serves, over new connections so both workers take some.
    const t = Date.now();
    await eventually(
      () => requestOnNewConnection(cluster.port, `/api/v1/prices/eth-usdt/at/${t}`),
      (r) => r.status === 200,
      { what: 'a history answer' },
    );
    for (let i = 0; i < 10; i++) {
      for (const url of [
        '/api/v1/prices/eth-usdt',
        `/api/v1/prices/eth-usdt/at/${t}`,
        '/api/v1/prices/eth-usdt/candles?interval=1s',
        '/api/v1/prices?pairs=eth-usdt',
        '/health/readiness',
        '/no-such-route',
      ])
        expect((await requestOnNewConnection(cluster.port, url)).status).toBeLessThan(500);
    }
    const workers = spawnSync('pgrep', ['-P', String(cluster.proc.pid)])
      .stdout.toString()
      .trim()
      .split('\n')
      .map(Number);
    expect(workers).toHaveLength(2);
    for (const pid of workers) process.kill(pid, 'SIGUSR2');
    const files = workers.map((pid) => path.join(dir, `${pid}.json`));
    await eventually(
      async () => files.every((file) => existsSync(file)),
      (written) => written,
      { what: 'every worker listed its modules' },
    );
    return files.map((file) => {
      const loaded = JSON.parse(readFileSync(file, 'utf8')) as string[];
      return new Set(loaded.flatMap((m) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(m)?.[1] ?? []));
    });
  } finally {
    cluster.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('When a worker has served every route with Redis configured, then it has loaded none of the primary libraries', async () => {
  const workers = await packagesLoadedByWorkers({});
  for (const loaded of workers) {
    expect(loaded.has('express')).toBe(true); // it did serve (the 404 went through Express)
    expect(loaded.has('ioredis')).toBe(true); // its history reads
    expect(PRIMARY_ONLY.filter((name) => loaded.has(name))).toEqual([]);
  }
}, 120_000);

test('When the rate limiter counts in Redis, then the workers load its store, and nothing else of the primary', async () => {
  const workers = await packagesLoadedByWorkers({ RATE_LIMIT_REQUESTS: '1000000' });
  for (const loaded of workers)
    expect(PRIMARY_ONLY.filter((name) => loaded.has(name))).toEqual(['rate-limiter-flexible']);
}, 120_000);
