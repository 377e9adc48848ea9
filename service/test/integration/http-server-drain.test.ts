import http from 'node:http';
import { startHttpServer, type HttpServer } from '../../src/cluster/http-server';
import { buildHttp } from '../../src/composition/http';
import { createSharedCache } from '../../src/composition/common';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/shared/logger';
import { createMetrics } from '../../src/shared/metrics';
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
});

/** Like the real dispatcher: `Connection: close` once draining; /slow answers after ?ms= milliseconds. */
const listener: http.RequestListener = (req, res) => {
  if (draining) res.shouldKeepAlive = false;
  const slow = /^\/slow\?ms=(\d+)$/.exec(req.url ?? '');
  const timer = setTimeout(() => res.end('ok'), slow ? Number(slow[1]) : 0);
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
  const drained = drain({ timeoutMs: 3000, idleGraceMs: 1000 });
  await expect(get(port, '/')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  // The client was idle when draining began and has not been told anything yet.
  await sleep(200);
  expect(await get(port, '/', agent)).toMatchObject({ status: 200, connection: 'close', reused: true });
  // That was its last connection: drained without waiting out the grace.
  expect(await drained).toBe('drained');
  expect(Date.now() - started).toBeLessThan(900);
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

test('When a request is in flight past the grace, then it still finishes before the drain ends', async () => {
  const { port, drain } = await start();
  const response = get(port, '/slow?ms=600', keepAliveClient());
  await sleep(50);
  draining = true;
  expect(await drain({ timeoutMs: 3000, idleGraceMs: 100 })).toBe('drained');
  expect(await response).toMatchObject({ status: 200, body: 'ok', connection: 'close' });
});

test('When a request outlasts the deadline, then its connection is destroyed and the drain ends at the deadline', async () => {
  const { port, drain } = await start();
  const response = get(port, '/slow?ms=5000', keepAliveClient());
  await sleep(50);
  draining = true;
  const started = Date.now();
  expect(await drain({ timeoutMs: 400, idleGraceMs: 100 })).toBe('deadline');
  expect(Date.now() - started).toBeLessThan(1000);
  await expect(response).rejects.toThrow();
});

test('When the service drains, then the fast price path and Express routes both answer with Connection: close', async () => {
  const config = loadConfig(TEST_ENV);
  const logger = createLogger({ level: 'error', service: 'test', silent: true });
  const metrics = createMetrics({ pairs: ['eth-usdt'], defaultMetrics: false, redis: false });
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
