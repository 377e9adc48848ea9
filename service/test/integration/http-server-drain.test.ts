import http from 'node:http';
import net from 'node:net';
import { startHttpServer, type HttpServer } from '../../src/infrastructure/http/http-server';
import { buildHttp } from '../../src/composition/http';
import { createSharedCache } from '../../src/composition/common';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { parseResponses } from '../helpers/raw-http';
import { TEST_ENV } from '../helpers/service';

// The drain sequence of the API server over real sockets, with timings made deterministic.
let draining = false;
let server: HttpServer | undefined;
const agents: http.Agent[] = [];

afterEach(async () => {
  for (const agent of agents.splice(0)) agent.destroy();
  server?.server.closeAllConnections();
  if (server?.server.listening) await new Promise((resolve) => server?.server.close(resolve));
  server = undefined;
  draining = false;
  arrivals.clear();
});

const BIG_BYTES = 32 * 1024 * 1024;

/** Resolves when the listener gets a request for `path`: from then on it is in flight on the server. */
const arrivals = new Map<string, () => void>();
function arrival(path: string): Promise<void> {
  return new Promise((resolve) => arrivals.set(path, resolve));
}

/**
 * Like the real dispatcher: `Connection: close` once draining. /slow answers after ?ms= milliseconds,
 * /slow-headers sends its headers at once and its body after ?ms=, /big is a 32 MB body.
 */
const listener: http.RequestListener = (req, res) => {
  arrivals.get(req.url ?? '')?.();
  if (draining) res.shouldKeepAlive = false;
  if (req.url === '/big') {
    res.end(Buffer.alloc(BIG_BYTES, 'x'));
    return;
  }
  const slow = /^\/slow(-headers)?\?ms=(\d+)$/.exec(req.url ?? '');
  if (slow?.[1] !== undefined) {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.flushHeaders();
  }
  const timer = setTimeout(() => res.end('ok'), slow ? Number(slow[2]) : 0);
  res.once('close', () => clearTimeout(timer));
};

async function start(requestListener = listener): Promise<HttpServer> {
  server = await startHttpServer({ host: '127.0.0.1', port: 0, backlog: 511, listener: requestListener });
  return server;
}

/** One persistent connection, as a keep-alive client has. */
function keepAliveClient(): http.Agent {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  agents.push(agent);
  return agent;
}

function get(port: number, path: string, agent: http.Agent | false = false) {
  return new Promise<{ status: number; body: string; connection: string | undefined; reused: boolean }>(
    (resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            connection: res.headers.connection,
            reused: req.reusedSocket,
          }),
        );
      });
      req.on('error', reject);
    },
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('When draining starts, then new connections are refused but an idle keep-alive connection still gets its next request answered, with Connection: close', async () => {
  const { port, drain } = await start();
  const agent = keepAliveClient();
  expect((await get(port, '/', agent)).connection).toBe('keep-alive');
  draining = true;
  const started = Date.now();
  const drained = drain({ timeoutMs: 4000, idleGraceMs: 2000 });
  await expect(get(port, '/')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  // The client was idle when draining began and has not been told anything yet; it stays idle a while on
  // purpose (well inside the 2 s grace), as a keep-alive client between two requests does.
  await sleep(200);
  expect(await get(port, '/', agent)).toMatchObject({ status: 200, connection: 'close', reused: true });
  // That was its last connection: drained without waiting out the grace.
  expect(await drained).toBe('drained');
  expect(Date.now() - started).toBeLessThan(1500);
});

test('When an idle keep-alive connection sends nothing during the grace, then it is closed when the grace ends', async () => {
  const { port, drain } = await start();
  const agent = keepAliveClient();
  await get(port, '/', agent);
  draining = true;
  const started = Date.now();
  expect(await drain({ timeoutMs: 3000, idleGraceMs: 300 })).toBe('drained');
  expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  expect(Date.now() - started).toBeLessThan(1500);
});

test('When a request is in flight past the grace, then it still finishes as it began (keep-alive) and its connection closes a grace later', async () => {
  const { port, drain } = await start();
  const arrived = arrival('/slow?ms=600');
  const response = get(port, '/slow?ms=600', keepAliveClient());
  await arrived;
  draining = true;
  const started = Date.now();
  expect(await drain({ timeoutMs: 3000, idleGraceMs: 100 })).toBe('drained');
  expect(Date.now() - started).toBeGreaterThanOrEqual(600);
  // Handled before draining: not switched to close under way, which would drop a request pipelined behind it.
  expect(await response).toMatchObject({ status: 200, body: 'ok', connection: 'keep-alive' });
});

test('When a request outlasts the deadline, then its connection is destroyed and the drain ends at the deadline', async () => {
  const { port, drain } = await start();
  const arrived = arrival('/slow?ms=5000');
  const response = get(port, '/slow?ms=5000', keepAliveClient());
  await arrived;
  draining = true;
  const started = Date.now();
  expect(await drain({ timeoutMs: 400, idleGraceMs: 100 })).toBe('deadline');
  expect(Date.now() - started).toBeLessThan(1000);
  await expect(response).rejects.toThrow();
});

/** A raw connection: what it has received, whether the server closed it, and when. */
function rawConnection(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  const state = { bytes: 0, raw: [] as Buffer[], closedAt: undefined as number | undefined, error: false };
  socket.on('data', (chunk: Buffer) => {
    state.bytes += chunk.length;
    if (state.raw.length < 64) state.raw.push(chunk);
  });
  socket.on('error', () => (state.error = true));
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      state.closedAt = Date.now();
      resolve();
    }),
  );
  return { socket, state, closed, connected: new Promise((resolve) => socket.once('connect', resolve)) };
}

test('When a finished response is still being sent to a slow reader across the grace, then it is delivered whole before the connection closes', async () => {
  const { port, drain } = await start();
  const client = rawConnection(port);
  await client.connected;
  // The client asks, then reads nothing for 400 ms: the kernel buffers fill and the rest waits in Node.
  client.socket.pause();
  const arrived = arrival('/big');
  client.socket.write('GET /big HTTP/1.1\r\nHost: test\r\n\r\n');
  await arrived;
  draining = true;
  // The deadline only has to outlast 32 MB to a slow reader on a busy box: 5 s has not always.
  const drained = drain({ timeoutMs: 30_000, idleGraceMs: 100 });
  // The scenario itself: the client goes on reading nothing for longer than the 100 ms grace.
  await sleep(350);
  client.socket.resume();
  const outcome = await drained;
  await client.closed;
  process.stdout.write(
    `[drain] slow reader: ${client.state.bytes} bytes received of a ${BIG_BYTES}-byte body\n`,
  );
  expect({ outcome, complete: client.state.bytes > BIG_BYTES, error: client.state.error }).toStrictEqual({
    outcome: 'drained',
    complete: true,
    error: false,
  });
});

test('When two requests are pipelined across the start of draining, then both are answered before the connection closes', async () => {
  const { port, drain } = await start();
  const client = rawConnection(port);
  await client.connected;
  const arrived = arrival('/slow?ms=300');
  client.socket.write(
    'GET /slow?ms=300 HTTP/1.1\r\nHost: test\r\n\r\nGET /fast HTTP/1.1\r\nHost: test\r\n\r\n',
  );
  await arrived;
  draining = true;
  const outcome = await drain({ timeoutMs: 4000, idleGraceMs: 300 });
  await client.closed;
  const responses = parseResponses(Buffer.concat(client.state.raw));
  expect({ outcome, statuses: responses.map((r) => r.status), error: client.state.error }).toStrictEqual({
    outcome: 'drained',
    statuses: [200, 200],
    error: false,
  });
});

test('When a keep-alive response under way finishes after the grace, then its connection still gets the grace for one more request, answered with Connection: close', async () => {
  const { port, drain } = await start();
  const agent = keepAliveClient();
  // Headers (keep-alive) are sent before draining; the body ends well after the grace.
  const arrived = arrival('/slow-headers?ms=900');
  const first = get(port, '/slow-headers?ms=900', agent);
  await arrived;
  draining = true;
  const drained = drain({ timeoutMs: 5000, idleGraceMs: 400 });
  expect(await first).toMatchObject({ status: 200, connection: 'keep-alive' });
  // Past the grace's end, but within a grace of the connection going idle: the client idles on purpose.
  await sleep(150);
  const second = await get(port, '/', agent).catch((error: Error & { code?: string }) => ({
    error: error.code ?? error.message,
  }));
  expect(second).toMatchObject({ status: 200, connection: 'close', reused: true });
  expect(await drained).toBe('drained');
});

test('When the service drains, then the fast price path and Express routes both answer with Connection: close', async () => {
  const config = loadConfig(TEST_ENV);
  const logger = createLogger({ level: 'error', service: 'test', silent: true });
  const metrics = createMetrics({ vocabulary: { pairs: ['eth-usdt'] }, defaultMetrics: false, redis: false });
  const app = buildHttp(config, {
    metrics,
    logger,
    shared: createSharedCache(config, { metrics, logger }),
    isDraining: () => draining,
  });
  try {
    const { port } = await start(app.listener);
    const agent = keepAliveClient();
    // No snapshot yet: the price is a 503, which is still an answer that keeps or closes the connection.
    const paths = ['/api/v1/prices/eth-usdt', '/api/', '/health/readiness', '/nowhere'];
    for (const path of paths) expect((await get(port, path, agent)).connection).toBe('keep-alive');
    draining = true;
    for (const path of paths) expect((await get(port, path, agent)).connection).toBe('close');
  } finally {
    app.close();
  }
});
