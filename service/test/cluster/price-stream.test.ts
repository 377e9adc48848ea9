import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import {
  mockExchangeClient,
  startMockExchange,
  type MockExchange,
} from '../../../mock-exchange/src/mock-exchange';
import { eventually, sample } from '../helpers/metrics';
import { freePort } from '../helpers/redis';
import { TEST_ENV } from '../helpers/service';
import { openStream, type SseClient } from '../helpers/sse';

// The real clustered process (make test builds first) with two workers: a snapshot the primary pushes over
// IPC reaches the subscribers of both workers, once each; SIGTERM ends every stream and the primary exits 0.
const MAIN = path.resolve(__dirname, '../../../dist/service/src/main.js');
const STREAMS = 24;

let mock: MockExchange;
let proc: ChildProcess;
let port: number;
let metricsPort: number;
let output = '';
const clients: SseClient[] = [];

const priceOf = (e: { data: string }) => (JSON.parse(e.data) as { price: string }).price;
const metricsText = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();

beforeAll(async () => {
  mock = await startMockExchange();
  await mockExchangeClient(mock.url).setPrice('ETH/USDT', '3500.00', false);
  [port, metricsPort] = [await freePort(), await freePort()];
  proc = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      ...TEST_ENV,
      WORKERS: '2',
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      REFRESH_INTERVAL_MS: '250',
      MOCK_EXCHANGE_URL: mock.url,
      SHUTDOWN_TIMEOUT_MS: '4000',
      LOG_LEVEL: 'debug', // for 'worker listening': both workers must take connections before the test
      DRAIN_IDLE_GRACE_MS: '200',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await eventually(
    () =>
      fetch(`http://127.0.0.1:${port}/health/readiness`).then(
        (r) => r.status,
        () => 0,
      ),
    (s) => s === 200,
    { what: `cluster ready; output so far:\n${output}`, timeoutMs: 15_000 },
  );
  await eventually(
    async () => output.split('\n').filter((l) => l.includes('"worker listening"')).length,
    (n) => n === 2,
    { what: `both workers listening; output so far:\n${output}`, timeoutMs: 15_000 },
  );
}, 30_000);

afterAll(async () => {
  for (const c of clients) c.close();
  if (proc && proc.exitCode === null) proc.kill('SIGKILL');
  await mock?.close();
});

test('When the price moves, then every subscriber on either worker gets each snapshot exactly once', async () => {
  // One connection each: the primary hands connections to the workers in turn.
  for (let i = 0; i < STREAMS; i++) {
    clients.push(await openStream(`http://127.0.0.1:${port}/api/v1/prices/eth-usdt/stream`));
  }
  expect(clients.map((c) => c.status)).toEqual(clients.map(() => 200));
  await Promise.all(clients.map((c) => c.next((e) => e.event === 'price', 5000)));
  await eventually(
    async () => sample(await metricsText(), 'price_stream_subscribers'),
    (n) => n === STREAMS,
    { what: 'every stream counted over both workers' },
  );
  await mockExchangeClient(mock.url).setPrice('ETH/USDT', '3600.00', false);
  const moved = await Promise.all(
    clients.map((c) => c.next((e) => e.event === 'price' && Number(priceOf(e)) > 3590, 8000)),
  );
  // The same snapshot (same id) is the first with the new price for everyone: both workers got it.
  expect(new Set(moved.map((e) => e.id)).size).toBe(1);
  // Let a few more rounds arrive, then compare what each subscriber saw after the move.
  await new Promise((r) => setTimeout(r, 1200));
  const after = clients.map((c) => {
    const ids = c.events.filter((e) => e.event === 'price').map((e) => e.id as string);
    return ids.slice(ids.indexOf(moved[0]?.id as string));
  });
  for (const ids of after) expect(new Set(ids).size).toBe(ids.length); // no duplicates
  const shortest = Math.min(...after.map((ids) => ids.length));
  expect(shortest).toBeGreaterThanOrEqual(3);
  for (const ids of after) expect(ids.slice(0, shortest)).toEqual(after[0]?.slice(0, shortest));
}, 40_000);

test('When the primary gets SIGTERM, then every stream ends and the service exits 0 within the deadline', async () => {
  const started = Date.now();
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  proc.kill('SIGTERM');
  await Promise.all(clients.map((c) => c.ended));
  const endedAfter = Date.now() - started;
  expect(endedAfter).toBeLessThan(3000);
  expect(await exited).toBe(0);
  expect(Date.now() - started).toBeLessThan(6000);
  // Each worker ended its own streams: both held some, and together all of them.
  const ended = output
    .split('\n')
    .filter((line) => line.includes('price streams ended for the drain'))
    .map((line) => JSON.parse(line) as { worker: unknown; streams: number });
  expect(new Set(ended.map((l) => l.worker)).size).toBe(2);
  expect(ended.reduce((sum, l) => sum + l.streams, 0)).toBe(STREAMS);
}, 20_000);
