import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { startMockExchange, type MockExchange } from '../../../mock-exchange/src/mock-exchange';
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
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

let mock: MockExchange;
let service: TestService | undefined;

afterAll(async () => {
  await service?.stop();
  await mock?.close();
});

test('When the service restarts under an eventsource client, then it reconnects with Last-Event-ID and no price arrives twice', async () => {
  mock = await startMockExchange();
  const env = { MOCK_EXCHANGE_URL: mock.url, STREAM_RETRY_MS: '200' };
  service = await startService(env);
  const forwarder = await startForwarder();
  forwarder.point(service.url);
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
