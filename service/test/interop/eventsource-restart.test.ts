import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { startMockExchange, type MockExchange } from '../../../mock-exchange/src/mock-exchange';
import { eventually } from '../helpers/metrics';
import { startRedis, type TestRedis } from '../helpers/redis';
import { startService, type TestService } from '../helpers/service';

// The npm `eventsource` client (what Node apps use) following the stream through a restart of the service
// behind one stable address, as behind a load balancer: it must reconnect by itself after `retry:`, send
// Last-Event-ID, and never hand the application the same price twice.

interface Line {
  readonly type: string;
  readonly id?: string;
  readonly data?: string;
}

/** A TCP forwarder on a fixed port to whichever service is current; records each request's head. */
async function startForwarder() {
  let target = 0;
  const heads: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    const upstream = net.connect(target, '127.0.0.1');
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.once('data', (chunk) => heads.push(chunk.toString('latin1')));
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    heads,
    point: (url: string) => (target = Number(new URL(url).port)),
    /** Cuts every open connection, as a load balancer does when it moves a client to another replica. */
    drop: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The eventsource client in its own process on the forwarder's stream URL: the lines it prints, and a wait. */
function followStream(forwarder: { url: string; heads: string[] }) {
  const lines: Line[] = [];
  const waiters = new Set<() => void>();
  const client = spawn(process.execPath, [
    path.join(__dirname, 'eventsource-client.mjs'),
    `${forwarder.url}/api/v1/prices/eth-usdt/stream`,
  ]);
  let buffered = '';
  client.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const complete = buffered.split('\n');
    buffered = complete.pop() ?? '';
    for (const line of complete) lines.push(JSON.parse(line) as Line);
    for (const wake of waiters) wake();
  });
  const until = (predicate: () => boolean, what: string, timeoutMs = 15_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(
            `timed out waiting for ${what}; lines: ${JSON.stringify(lines.filter((l) => l.type !== 'price').slice(-5))}; heads: ${JSON.stringify(forwarder.heads.map((h) => h.slice(0, 300)))}`,
          ),
        );
      }, timeoutMs);
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      check();
    });
  return { lines, until, client };
}

let mock: MockExchange;
let service: TestService | undefined;
let replicas: TestService[] = [];
let redis: TestRedis | undefined;

beforeAll(async () => {
  mock = await startMockExchange();
});

afterAll(async () => {
  await service?.stop();
  await Promise.all(replicas.map((replica) => replica.stop()));
  await redis?.stop();
  await mock?.close();
});

test('When the service restarts under an eventsource client, then it reconnects with Last-Event-ID and no price arrives twice', async () => {
  const env = { MOCK_EXCHANGE_URL: mock.url, STREAM_RETRY_MS: '200' };
  service = await startService(env);
  const forwarder = await startForwarder();
  forwarder.point(service.url);
  const { lines, until, client } = followStream(forwarder);
  const prices = () => lines.filter((line) => line.type === 'price');
  try {
    await until(() => prices().length >= 2, 'two prices before the restart');
    await service.stop();
    await until(() => lines.some((line) => line.type === 'error'), 'the client to see the connection drop');
    const lastBefore = prices().at(-1)?.id as string;
    const countBefore = prices().length;
    service = await startService(env);
    forwarder.point(service.url);
    await until(() => prices().length >= countBefore + 2, 'two prices after the restart', 20_000);

    // It reconnected by itself (more than one open), saying where it was.
    expect(lines.filter((line) => line.type === 'open').length).toBeGreaterThanOrEqual(2);
    const resumed = forwarder.heads.filter((head) => /^last-event-id: /im.test(head));
    expect(resumed.length).toBeGreaterThanOrEqual(1);
    expect(resumed.at(-1)).toMatch(
      new RegExp(`^last-event-id: ${lastBefore.replace(/[-]/g, '\\-')}\\r?$`, 'im'),
    );
    // No price twice: every price event has its own id, and none repeats the one before it.
    const ids = prices().map((line) => line.id);
    expect(new Set(ids).size).toBe(ids.length);
    const data = prices().map((line) => line.data?.replace(/"(ageMs|updatedAt)":("[^"]*"|\d+)/g, ''));
    expect(data.filter((body, i) => i > 0 && body === data[i - 1])).toEqual([]);
  } finally {
    client.kill('SIGTERM');
    await forwarder.close();
  }
}, 60_000);

test('When a load balancer moves an eventsource client to another replica on the same Redis, then that replica does not send again the price the client already has', async () => {
  // Replicas on one Redis share each round's source results, so they publish the same snapshot under the
  // same id. Rounds 3 s apart leave time to move the client while both still hold the round it last got.
  redis = await startRedis();
  const env = {
    MOCK_EXCHANGE_URL: mock.url,
    STREAM_RETRY_MS: '200',
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: 'eventsource:',
    REFRESH_INTERVAL_MS: '3000',
    CACHE_TTL: '10',
    MAX_STALENESS: '30',
  };
  replicas = [await startService(env), await startService(env)];
  const [a, b] = replicas as [TestService, TestService];
  const currentId = async (replica: TestService) =>
    (await fetch(`${replica.url}/api/v1/prices/eth-usdt`)).headers.get('etag') ?? '';
  const forwarder = await startForwarder();
  forwarder.point(a.url);
  const { lines, until, client } = followStream(forwarder);
  const prices = () => lines.filter((line) => line.type === 'price');
  try {
    // Right after a new round reaches the client through A, and B holds the same round: move it to B.
    await until(() => prices().length >= 1, 'the price from replica A');
    await until(() => prices().length >= 2, 'the next round from replica A');
    // B publishes the round a little after A on a busy machine (it waits for A's shared results): until then.
    const { had, before } = await eventually(
      async () => ({ had: prices().at(-1)?.id as string, before: prices().length, atB: await currentId(b) }),
      ({ had: id, atB }) => atB.includes(id),
      { what: 'replica B holding the round the client last got', timeoutMs: 10_000, intervalMs: 20 },
    );
    const opens = lines.filter((line) => line.type === 'open').length;
    forwarder.point(b.url);
    forwarder.drop();
    await until(
      () => lines.filter((line) => line.type === 'open').length > opens,
      'the reconnect to replica B',
    );
    expect(forwarder.heads.at(-1)).toMatch(new RegExp(`^last-event-id: ${had}\\r?$`, 'im'));
    // Still the same round on B when it answered the reconnect (otherwise this test would prove nothing).
    expect(await currentId(b)).toContain(had);
    await until(
      () =>
        prices()
          .slice(before)
          .some((line) => line.id !== had),
      'the next round from replica B',
    );
    const ids = prices().map((line) => line.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  } finally {
    client.kill('SIGTERM');
    await forwarder.close();
  }
}, 60_000);
