import http from 'node:http';
import { startMockExchange, type MockExchange } from '../../../mock-exchange/src/mock-exchange';
import { spawnCluster } from '../helpers/cluster';
import { eventually } from '../helpers/metrics';

// The built cluster stopped by SIGTERM, again and again, while keep-alive clients poll it and reconnect at
// once whenever a response says `Connection: close` (the drain says it to every one of them): new
// connections arrive all through the drain. A connection the kernel completed for one of the replica's
// listeners must be answered; one reset before its first answer leaves its client not knowing whether its
// request was served. A refused connection (nothing listens any more) is what a client of a stopped replica
// should see. Before the fix this found resets in about half the stops (docs/deployment.md).
const PRICE = '/api/v1/prices/eth-usdt';
const STOPS = 6;
const STOPS_WITH_DELAY = 3;
const CLIENTS = 50;
const ANSWERS_BEFORE_SIGTERM = 2;
const SHUTDOWN_TIMEOUT_MS = 5000;

interface Tally {
  answered: number;
  answeredAfterSigterm: number;
  droppedOnLiveConnection: number;
  resetBeforeFirstAnswer: number;
  refused: number;
  other: Record<string, number>;
}

type Outcome = 'answered' | 'refused' | 'dropped' | 'reset' | string;

/** One GET, classified by what its connection had done: answered, never connected, or failed after. */
function request(port: number, agent: http.Agent | false): Promise<Outcome> {
  return new Promise((resolve) => {
    let connected = false;
    const req = http.get({ host: '127.0.0.1', port, path: PRICE, agent }, (res) => {
      res.resume();
      res.once('end', () => resolve('answered'));
      res.once('error', () => resolve('dropped'));
    });
    req.once('socket', (socket) => {
      if (req.reusedSocket) connected = true;
      else socket.once('connect', () => (connected = true));
    });
    req.once('error', (error: NodeJS.ErrnoException) => {
      if (req.reusedSocket) resolve('dropped');
      else if (error.code === 'ECONNREFUSED') resolve('refused');
      // A reset can beat the client's own 'connect': the kernel completed the handshake, then the listener
      // that held the connection unaccepted closed. A SYN nobody listens for is refused, never reset.
      else if (error.code === 'ECONNRESET' || /socket hang up/.test(error.message)) resolve('reset');
      else resolve(`${connected ? '' : 'connect '}${error.code ?? error.message}`);
    });
  });
}

async function stopUnderLoad(
  mock: MockExchange,
  env: Record<string, string>,
): Promise<{ tally: Tally; exitCode: number | null }> {
  const cluster = await spawnCluster({
    MOCK_EXCHANGE_URL: mock.url,
    LOG_LEVEL: 'info',
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    ...env,
  });
  try {
    const tally: Tally = {
      answered: 0,
      answeredAfterSigterm: 0,
      droppedOnLiveConnection: 0,
      resetBeforeFirstAnswer: 0,
      refused: 0,
      other: {},
    };
    let sigterm = false;
    let exited = false;
    void cluster.exited.then(() => (exited = true));
    await eventually(
      () => request(cluster.port, false),
      (outcome) => outcome === 'answered',
      { what: 'price served', timeoutMs: 15_000 },
    );
    const answers = new Array<number>(CLIENTS).fill(0);
    const client = async (index: number) => {
      // maxSockets 1: one connection at a time, reused until a response says `Connection: close`.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      while (!exited) {
        const outcome = await request(cluster.port, agent);
        if (outcome === 'answered') {
          tally.answered++;
          answers[index] = (answers[index] ?? 0) + 1;
          if (sigterm) tally.answeredAfterSigterm++;
          continue;
        }
        if (outcome === 'refused') tally.refused++;
        else if (outcome === 'dropped') tally.droppedOnLiveConnection++;
        else if (outcome === 'reset') tally.resetBeforeFirstAnswer++;
        else tally.other[outcome] = (tally.other[outcome] ?? 0) + 1;
        // Nothing listens any more (or this replica failed it): a real client goes to another replica.
        break;
      }
      agent.destroy();
    };
    const clients = Array.from({ length: CLIENTS }, (_, i) => client(i));
    await eventually(
      async () => Math.min(...answers),
      (n) => n >= ANSWERS_BEFORE_SIGTERM,
      { what: `${ANSWERS_BEFORE_SIGTERM} answers for every client`, timeoutMs: 20_000 },
    );
    sigterm = true;
    cluster.proc.kill('SIGTERM');
    const exitCode = await cluster.exited;
    exited = true;
    await Promise.all(clients);
    return { tally, exitCode };
  } finally {
    cluster.kill();
  }
}

/** Stops the cluster `stops` times under the load; fails on any connection reset before its first answer. */
async function expectNoResets(stops: number, env: Record<string, string>): Promise<void> {
  const mock = await startMockExchange();
  const tallies: Tally[] = [];
  try {
    for (let i = 0; i < stops; i++) {
      const { tally, exitCode } = await stopUnderLoad(mock, env);
      process.stdout.write(
        `[drain-new-connections] ${JSON.stringify(env)} stop ${i + 1}: exit ${exitCode} ${JSON.stringify(tally)}\n`,
      );
      expect(exitCode).toBe(0);
      tallies.push(tally);
    }
  } finally {
    await mock.close();
  }
  expect({
    resets: tallies.map((t) => t.resetBeforeFirstAnswer),
    dropped: tallies.map((t) => t.droppedOnLiveConnection),
    other: tallies.map((t) => t.other),
  }).toStrictEqual({
    resets: tallies.map(() => 0),
    dropped: tallies.map(() => 0),
    other: tallies.map(() => ({})),
  });
  for (const tally of tallies) {
    // The load was there through the drain: clients were answered after SIGTERM, then refused.
    expect(tally.answeredAfterSigterm).toBeGreaterThan(0);
    expect(tally.refused).toBeGreaterThan(0);
  }
}

test(`When the cluster is stopped ${STOPS} times while its keep-alive clients reconnect as told, then every connection it accepted is answered`, async () => {
  await expectNoResets(STOPS, {});
}, 300_000);

test(`When the cluster is stopped ${STOPS_WITH_DELAY} times with DRAIN_DELAY_MS and its clients go on reconnecting through the delay, then every connection it accepted is answered`, async () => {
  // Nothing in front takes the replica out: the clients told to close during the delay come straight back.
  // Before the listener closes, responses keep connections open again until no new one comes for a moment
  // (without that: 6, 33, 11, 44, 0 and 41 resets in 6 stops).
  await expectNoResets(STOPS_WITH_DELAY, { DRAIN_DELAY_MS: '1000' });
}, 300_000);
