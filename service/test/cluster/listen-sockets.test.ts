import { spawn, spawnSync } from 'node:child_process';
import { startMockExchange, type MockExchange } from '../../../mock-exchange/src/mock-exchange';
import { freePort } from '../../../scripts/lib/free-port';
import { MAIN, spawnCluster, type TestCluster } from '../helpers/cluster';
import { eventually } from '../helpers/metrics';
import { TEST_ENV } from '../helpers/service';

// Each worker listens on a socket of its own (SO_REUSEPORT), so each closes its own when it drains and the
// primary holds no connection for it (docs/deployment.md, "reset before first answer").
const BACKLOG = 777;

let mock: MockExchange;
let cluster: TestCluster;

beforeAll(async () => {
  mock = await startMockExchange();
  cluster = await spawnCluster({
    MOCK_EXCHANGE_URL: mock.url,
    LISTEN_BACKLOG: String(BACKLOG),
    WORKERS: '2',
  });
}, 90_000);

afterAll(async () => {
  cluster?.kill();
  await mock?.close();
});

/** The listening sockets on the cluster's port: ss shows a listener's backlog in effect as its Send-Q. */
function listeningSockets(): { backlog: number; pid: number }[] {
  const ss = spawnSync('ss', ['-Hltnp', `sport = :${cluster.port}`], { encoding: 'utf8' });
  if (ss.status !== 0) throw new Error(`ss: ${ss.stderr}`);
  return ss.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => ({ backlog: Number(line.split(/\s+/)[2]), pid: Number(/pid=(\d+)/.exec(line)?.[1]) }));
}

test('When the cluster listens, then each worker has a listening socket of its own with LISTEN_BACKLOG', async () => {
  // Ready means one worker answers; the other may still be starting on a busy box.
  const sockets = await eventually(
    async () => listeningSockets(),
    (s) => s.length >= 2,
    {
      what: 'two listening sockets',
      timeoutMs: 30_000,
    },
  );
  const workers = spawnSync('pgrep', ['-P', String(cluster.proc.pid)], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
    .map(Number);
  expect(sockets.map((s) => s.backlog)).toStrictEqual([BACKLOG, BACKLOG]);
  expect(sockets.map((s) => s.pid).sort()).toStrictEqual(workers.sort());
});

test('When a second instance is started on the same API port, then it exits 1 instead of sharing the port', async () => {
  const second = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      ...TEST_ENV,
      WORKERS: '2',
      MOCK_EXCHANGE_URL: mock.url,
      PORT: String(cluster.port),
      METRICS_PORT: String(await freePort()),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  second.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // Sharing the port, it would serve on: killed after a while, it has not exited by itself (code null).
  const killer = setTimeout(() => second.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));
  clearTimeout(killer);
  expect({ code, addressInUse: /EADDRINUSE/.test(output) }).toStrictEqual({ code: 1, addressInUse: true });
}, 60_000);
