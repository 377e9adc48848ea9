import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { startMockExchange, type MockExchange } from '../../../mock-exchange/src/mock-exchange';
import { spawnCluster, type TestCluster } from '../helpers/cluster';
import { eventually, sample } from '../helpers/metrics';

/**
 * Slow clients against the real cluster (two workers, built by `make build`): thousands of slowloris sockets
 * must not starve normal clients, must be closed by the headers timeout, and past the per-worker connection
 * cap new connections are closed on accept so the workers' file descriptors stay bounded.
 */
// Long enough that every socket is open before the first one times out, even on a busy shared box: with
// 8 s, a run on this busy box had 1,111 of 2,000 open when the first ones were timed out.
const HEADERS_TIMEOUT_MS = 15_000;
// Sized to what this machine allows: the test process holds one descriptor per socket it opens.
const FILE_LIMIT = Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim()) || 1024;
const LORIS = Math.min(2000, Math.floor((FILE_LIMIT - 500) / 3));
// Connections are not split evenly between the workers (the kernel hashes them over the workers' SO_REUSEPORT
// sockets: 1,016/1,032 in one run; under the old round robin one worker took 1,171 of 2,000, and more than
// 1,500 in another): with a cap of LORIS per worker the first test measures the timeout, never the cap.
const CAP = LORIS;
const FLOOD = Math.min(2 * CAP + 1200, FILE_LIMIT - 500);

let mock: MockExchange;
let cluster: TestCluster;
const open = new Set<net.Socket>();

beforeAll(async () => {
  mock = await startMockExchange();
  cluster = await spawnCluster({
    MOCK_EXCHANGE_URL: mock.url,
    HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    REQUEST_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    MAX_CONNECTIONS_PER_WORKER: String(CAP),
    LOG_LEVEL: 'warn',
  });
}, 120_000);

afterAll(async () => {
  for (const socket of open) socket.destroy();
  cluster?.kill();
  await mock?.close();
});

/** A normal client: a new connection per request (so both workers get some), timed. */
function get(urlPath: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port: cluster.port, path: urlPath, agent: false, timeout: 10_000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('normal request timed out')));
    req.on('error', reject);
  });
}

const metricsText = () => cluster.metricsText();
const workerPids = () =>
  spawnSync('ps', ['-o', 'pid=', '--ppid', String(cluster.proc.pid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((line) => Number(line.trim()))
    .filter((pid) => pid > 0);
const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

interface Loris {
  readonly closed: Promise<{ answer: string; afterMs: number }>;
}

/** A socket that sends headers one line at a time and never finishes them (or, `silent`, sends nothing). */
function loris(silent: boolean): Promise<Loris> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect(cluster.port, '127.0.0.1');
    open.add(socket);
    let answer = '';
    let drip: NodeJS.Timeout | undefined;
    const closed = new Promise<{ answer: string; afterMs: number }>((done) => {
      socket.on('close', () => {
        clearInterval(drip);
        open.delete(socket);
        done({ answer, afterMs: performance.now() - started });
      });
    });
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('connect', () => {
      if (!silent) {
        socket.write('GET /api/v1/prices/eth-usdt HTTP/1.1\r\nHost: x\r\n');
        drip = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 500);
      }
      resolve({ closed });
    });
  });
}

async function openMany(count: number, silent: boolean): Promise<Loris[]> {
  const all: Loris[] = [];
  // In batches: the accept queue is long, but the test should not measure it.
  for (let i = 0; i < count; i += 250) {
    all.push(...(await Promise.all(Array.from({ length: Math.min(250, count - i) }, () => loris(silent)))));
  }
  return all;
}

test(`When ${LORIS} slowloris sockets are open, then normal clients are served, and the headers timeout closes every one with a 408`, async () => {
  const pids = workerPids();
  expect(pids).toHaveLength(2);
  const baseline = pids.map(fds);
  const openingStarted = performance.now();
  const attack = await openMany(LORIS, false);
  const openingMs = performance.now() - openingStarted;
  await eventually(
    async () => {
      const text = await metricsText();
      return {
        open: sample(text, 'http_open_connections') ?? 0,
        dropped: sample(text, 'http_connections_dropped_total'),
        fds: [cluster.proc.pid as number, ...pids].map(fds),
      };
    },
    (n) => n.open >= LORIS,
    { what: 'every slowloris socket accepted', timeoutMs: HEADERS_TIMEOUT_MS - 1000 },
  );
  const during = pids.map(fds);

  // Normal clients in the meantime: every one answered, none made to wait for the attackers.
  const normal = [];
  for (let i = 0; i < 10; i++) {
    normal.push(...(await Promise.all(Array.from({ length: 10 }, () => get('/api/v1/prices/eth-usdt')))));
  }
  expect(normal.map((r) => r.status)).toEqual(Array(100).fill(200));
  const slowest = Math.max(...normal.map((r) => r.ms));
  // Starved clients would wait for the attackers' timeout; served ones take milliseconds (generous here).
  expect(slowest).toBeLessThan(HEADERS_TIMEOUT_MS / 2);

  const ends = await Promise.all(attack.map((a) => a.closed));
  const answered408 = ends.filter((e) => e.answer.startsWith('HTTP/1.1 408 ')).length;
  const latest = Math.max(...ends.map((e) => e.afterMs));
  expect(answered408).toBe(LORIS);
  // Timeout plus the 1 s check interval, plus the time to open them all on a loaded box (measured: a fixed
  // 8 s was not always enough), far below Node's own defaults (60 s headers, 300 s request).
  expect(latest).toBeLessThan(HEADERS_TIMEOUT_MS + 8000 + openingMs);
  const after = pids.map(fds);
  process.stdout.write(
    `[slowloris] ${LORIS} sockets; worker fds baseline ${baseline.join('/')}, during ${during.join('/')}, ` +
      `after ${after.join('/')}; 100 normal requests served, slowest ${slowest.toFixed(0)} ms; ` +
      `all ${answered408} closed with 408 within ${latest.toFixed(0)} ms\n`,
  );
  after.forEach((n, i) => expect(n).toBeLessThan((baseline[i] as number) + 50));
}, 120_000);

test(`When ${FLOOD} connections arrive for a cap of ${CAP} per worker, then the excess is closed on accept and descriptors stay bounded`, async () => {
  const pids = workerPids();
  const droppedBefore = sample(await metricsText(), 'http_connections_dropped_total') ?? 0;
  const flood = await openMany(FLOOD, true);
  await eventually(
    async () => (sample(await metricsText(), 'http_connections_dropped_total') ?? 0) - droppedBefore,
    (n) => n >= FLOOD - 2 * CAP,
    { what: 'the excess connections dropped', timeoutMs: HEADERS_TIMEOUT_MS - 1000 },
  );
  const during = pids.map(fds);
  // Each worker holds at most the cap, plus its own descriptors.
  during.forEach((n) => expect(n).toBeLessThan(CAP + 100));
  const dropped = (sample(await metricsText(), 'http_connections_dropped_total') ?? 0) - droppedBefore;

  // The silent ones that were kept are closed by the headers timeout; then normal service is back.
  const ends = await Promise.all(flood.map((f) => f.closed));
  expect((await get('/api/v1/prices/eth-usdt')).status).toBe(200);
  process.stdout.write(
    `[slowloris] flood of ${FLOOD}: ${dropped} dropped on accept, worker fds during ${during.join('/')}, ` +
      `${ends.filter((e) => e.answer.startsWith('HTTP/1.1 408 ')).length} closed by the timeout with 408\n`,
  );
}, 120_000);
