import {
  mockExchangeClient,
  startMockExchange,
  type MockExchange,
} from '../../../mock-exchange/src/mock-exchange';
import { spawnCluster, type TestCluster } from '../helpers/cluster';
import { eventually, sample } from '../helpers/metrics';
import { openStream, type SseClient } from '../helpers/sse';

// The real clustered process (make test builds first) with two workers: a snapshot the primary pushes over
// IPC reaches the subscribers of both workers, once each; SIGTERM ends every stream and the primary exits 0.
const STREAMS = 24;

let mock: MockExchange;
let cluster: TestCluster;
const clients: SseClient[] = [];

const priceOf = (e: { data: string }) => (JSON.parse(e.data) as { price: string }).price;

beforeAll(async () => {
  mock = await startMockExchange();
  await mockExchangeClient(mock.url).setPrice('ETH/USDT', '3500.00', false);
  cluster = await spawnCluster({
    REFRESH_INTERVAL_MS: '250',
    MOCK_EXCHANGE_URL: mock.url,
    SHUTDOWN_TIMEOUT_MS: '4000',
    LOG_LEVEL: 'debug', // for 'worker listening': both workers must take connections before the test
    DRAIN_IDLE_GRACE_MS: '200',
  });
  await eventually(
    async () => cluster.logLines('worker listening').length,
    (n) => n === 2,
    { what: 'both workers listening', timeoutMs: 60_000 },
  );
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.close();
  cluster?.kill();
  await mock?.close();
});

test('When the price moves, then every subscriber on either worker gets each snapshot exactly once', async () => {
  // One connection each: the primary hands connections to the workers in turn.
  for (let i = 0; i < STREAMS; i++) {
    clients.push(await openStream(`${cluster.url}/api/v1/prices/eth-usdt/stream`));
  }
  expect(clients.map((c) => c.status)).toEqual(clients.map(() => 200));
  await Promise.all(clients.map((c) => c.next((e) => e.event === 'price', 20_000)));
  await eventually(
    async () => sample(await cluster.metricsText(), 'price_stream_subscribers'),
    (n) => n === STREAMS,
    { what: 'every stream counted over both workers' },
  );
  await mockExchangeClient(mock.url).setPrice('ETH/USDT', '3600.00', false);
  const moved = await Promise.all(
    clients.map((c) => c.next((e) => e.event === 'price' && Number(priceOf(e)) > 3590, 20_000)),
  );
  // The same snapshot (same id) is the first with the new price for everyone: both workers got it.
  expect(new Set(moved.map((e) => e.id)).size).toBe(1);
  // Wait until every subscriber has seen a few more rounds, then compare what each saw after the move.
  const fromMove = (c: SseClient) => {
    const ids = c.events.filter((e) => e.event === 'price').map((e) => e.id as string);
    return ids.slice(ids.indexOf(moved[0]?.id as string));
  };
  await eventually(
    async () => Math.min(...clients.map((c) => fromMove(c).length)),
    (n) => n >= 3,
    { what: 'three snapshots from the move on at every subscriber', timeoutMs: 20_000 },
  );
  const after = clients.map(fromMove);
  for (const ids of after) expect(new Set(ids).size).toBe(ids.length); // no duplicates
  const shortest = Math.min(...after.map((ids) => ids.length));
  expect(shortest).toBeGreaterThanOrEqual(3);
  for (const ids of after) expect(ids.slice(0, shortest)).toEqual(after[0]?.slice(0, shortest));
}, 60_000);

test('When the primary gets SIGTERM, then every stream ends and the service exits 0 within the deadline', async () => {
  const started = Date.now();
  cluster.proc.kill('SIGTERM');
  await Promise.all(clients.map((c) => c.ended));
  const endedAfter = Date.now() - started;
  expect(endedAfter).toBeLessThan(3000);
  expect(await cluster.exited).toBe(0);
  expect(Date.now() - started).toBeLessThan(6000);
  // Each worker ended its own streams: both held some, and together all of them.
  const ended = cluster.logLines<{ worker: unknown; streams: number }>('price streams ended for the drain');
  expect(new Set(ended.map((l) => l.worker)).size).toBe(2);
  expect(ended.reduce((sum, l) => sum + l.streams, 0)).toBe(STREAMS);
}, 20_000);
