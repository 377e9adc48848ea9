import { Redis } from 'ioredis';
import {
  mockExchangeClient,
  startMockExchange,
  type MockExchange,
  type MockExchangeClient,
} from '../../../mock-exchange/src/mock-exchange';
import { eventually, sample } from '../helpers/metrics';
import { startRedis, type TestRedis } from '../helpers/redis';
import { startService, type TestService } from '../helpers/service';

// Replicas sharing one real Redis (a redis-server process or a container) for their price history, against
// the mock exchange with its prices walking.
const INTERVAL_MS = 200;
let redis: TestRedis;
let admin: Redis;
let mock: MockExchange;
let control: MockExchangeClient;
const running: TestService[] = [];

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
  mock = await startMockExchange({ tickMs: 100 });
  control = mockExchangeClient(mock.url);
  await control.setWalk(true);
}, 30_000);
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
  await control.clearFault('*');
});
afterAll(async () => {
  admin?.disconnect();
  await mock?.close();
  await redis?.stop();
});

async function replica(prefix: string): Promise<TestService> {
  const service = await startService({
    MOCK_EXCHANGE_URL: mock.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: prefix,
    REFRESH_INTERVAL_MS: String(INTERVAL_MS),
  });
  running.push(service);
  return service;
}

const appended = async (service: TestService, result: 'written' | 'duplicate') =>
  sample(await service.metricsText(), 'price_history_points_written_total', { pair: 'eth-usdt', result }) ??
  0;
const writeFailures = async (service: TestService) =>
  sample(await service.metricsText(), 'price_history_write_failures_total', { pair: 'eth-usdt' }) ?? 0;
const pending = async (service: TestService) =>
  sample(await service.metricsText(), 'price_history_points_pending') ?? 0;
const body = async (service: TestService, path: string) => {
  const res = await fetch(`${service.url}/api/v1/prices/eth-usdt${path}`);
  return { status: res.status, text: await res.text() };
};

test('When two replicas publish the same rounds, then each price is stored exactly once and both serve it alike', async () => {
  const [a, b] = [await replica('two:'), await replica('two:')];
  await eventually(
    async () =>
      Math.min(
        (await appended(a, 'written')) + (await appended(a, 'duplicate')),
        (await appended(b, 'written')) + (await appended(b, 'duplicate')),
      ),
    (n) => n >= 15,
    { what: 'fifteen rounds recorded by each replica', timeoutMs: 30_000 },
  );
  // Every source down: both replicas publish an end of the price once it passes MAX_STALENESS, then nothing.
  await control.setFault('*', { type: 'outage' });
  const ended = async () => {
    const [last] = await admin.xrevrange('two:{eth-usdt}:history:points', '+', '-', 'COUNT', 1);
    return last?.[1][1] === '[]' && (await pending(a)) === 0 && (await pending(b)) === 0;
  };
  await eventually(ended, (done) => done, { what: 'the end of the price stored', timeoutMs: 30_000 });

  const stored = await admin.xrange('two:{eth-usdt}:history:points', '-', '+');
  const written = (await appended(a, 'written')) + (await appended(b, 'written'));
  const duplicates = (await appended(a, 'duplicate')) + (await appended(b, 'duplicate'));
  const failures = (await writeFailures(a)) + (await writeFailures(b));
  process.stdout.write(
    `[history] two replicas: ${stored.length} points stored, ${written} written, ${duplicates} refused as already stored, ${failures} failed attempts\n`,
  );
  // Every append that said "written" is one entry. One whose answer timed out (a busy machine) may have been
  // stored all the same: its retry then finds it there. So at most one more entry per failed attempt.
  expect(stored.length).toBeGreaterThanOrEqual(written);
  expect(stored.length - written).toBeLessThanOrEqual(failures);
  // And no round is there twice.
  const times = stored.map(([id]) => Number(id.split('-')[0]));
  expect(new Set(times).size).toBe(times.length);
  expect(stored.every(([id]) => id.endsWith('-0'))).toBe(true);
  // Points are timed at their round's start, so both replicas name a round alike: most were offered twice.
  expect(times.every((t) => t % INTERVAL_MS === 0)).toBe(true);
  expect(duplicates).toBeGreaterThan(stored.length / 2);

  // Either replica answers the same history.
  const from = times[0]!;
  const to = times[times.length - 1]!;
  for (const path of [`/at/${from + 50}`, `/candles?interval=1s&from=${from}&to=${to}`]) {
    const [fromA, fromB] = [await body(a, path), await body(b, path)];
    expect(fromA.status).toBe(200);
    expect(fromB).toEqual(fromA);
  }
}, 90_000);

test('When the only replica restarts, then the history it wrote before is served as it was', async () => {
  const first = await replica('restart:');
  const finalAt = (t: number) =>
    eventually(
      () => body(first, `/at/${t}`),
      (r) => r.status === 200 && (JSON.parse(r.text) as { final: boolean }).final,
      { what: 'a final answer at an instant' },
    );
  const t = Date.now();
  await finalAt(t);
  // and a whole second of history after it
  const second = Math.ceil(t / 1_000) * 1_000;
  await finalAt(second + 1_000);
  const paths = [`/at/${t}`, `/candles?interval=1s&from=${second}&to=${second + 1_000}`];
  const before = await Promise.all(paths.map((p) => body(first, p)));
  await first.stop();
  running.splice(running.indexOf(first), 1);

  const again = await replica('restart:');
  // The new process has written nothing yet when it answers: what it serves was in Redis.
  expect(await Promise.all(paths.map((p) => body(again, p)))).toEqual(before);
  expect(before[1]!.text).toContain('"gap":false');
}, 60_000);

test('When Redis is unreachable for 10 s mid-run, then the points published meanwhile are written after it, in order: no gap', async () => {
  const service = await replica('outage:');
  const t = Date.now();
  await eventually(
    () => body(service, `/at/${t}`),
    (r) => r.status === 200 && (JSON.parse(r.text) as { final: boolean }).final,
    { what: 'history before the outage' },
  );
  // Every client of this Redis is held for 10 s (its data kept): the service's commands time out meanwhile.
  const pause = new Redis(redis.url);
  await pause.call('CLIENT', 'PAUSE', '10000', 'ALL');
  pause.disconnect();
  const failures = async () =>
    sample(await service.metricsText(), 'price_history_write_failures_total', { pair: 'eth-usdt' }) ?? 0;
  await eventually(failures, (n) => n > 0, { what: 'history writes failing' });
  await eventually(
    () => pending(service),
    (n) => n > 10,
    { what: 'points held', timeoutMs: 15_000 },
  );
  await eventually(
    () => pending(service),
    (n) => n === 0,
    { what: 'held points written', timeoutMs: 30_000 },
  );
  const end = Date.now();
  const from = Math.ceil(t / 1_000) * 1_000;
  const to = Math.floor(end / 1_000) * 1_000;
  for (const interval of ['1s', '1m']) {
    const res = await body(service, `/candles?interval=${interval}&from=${from}&to=${to}`);
    expect(res.status).toBe(200);
    const candles = (JSON.parse(res.text) as { candles: { gap: boolean; start: string }[] }).candles;
    expect(candles.length).toBeGreaterThan(0);
    expect(candles.filter((c) => c.gap).map((c) => c.start)).toEqual([]);
  }
  expect(await failures()).toBeGreaterThan(0);
  expect(
    sample(await service.metricsText(), 'price_history_points_dropped_total', { pair: 'eth-usdt' }) ?? 0,
  ).toBe(0);
}, 90_000);
