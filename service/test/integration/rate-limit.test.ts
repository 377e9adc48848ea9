import http from 'node:http';
import { startMockExchange, type MockExchange } from '../../../mock-exchange/src/mock-exchange';
import { eventually, sample } from '../helpers/metrics';
import { startRedis, type TestRedis } from '../helpers/redis';
import { startService, type TestService } from '../helpers/service';

// The per-client rate limit over real sockets: in memory without Redis, shared through a real Redis by two
// replicas, failing open when Redis dies.
const PRICE_PATH = '/api/v1/prices/eth-usdt';
let mock: MockExchange;
let redis: TestRedis;
const services: TestService[] = [];

beforeAll(async () => {
  [mock, redis] = await Promise.all([startMockExchange(), startRedis()]);
});
afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await Promise.all([mock?.close(), redis?.stop()]);
});

async function start(env: Record<string, string>): Promise<TestService> {
  const service = await startService({
    MOCK_EXCHANGE_URL: mock.url,
    RATE_LIMIT_WINDOW_SECONDS: '60',
    ...env,
  });
  services.push(service);
  // Probes are never limited, so waiting on readiness spends none of the budget.
  await eventually(
    async () => (await fetch(`${service.url}/health/readiness`)).status,
    (s) => s === 200,
    { what: 'readiness' },
  );
  return service;
}

/** A request on its own connection, with headers that fetch would not let through (X-Forwarded-For is fine). */
function get(service: TestService, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const url = new URL(`${service.url}${PRICE_PATH}`);
      http
        .get({ host: url.hostname, port: url.port, path: url.pathname, headers, agent: false }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        })
        .on('error', reject);
    },
  );
}

test('When a client spends its budget (memory, no Redis), then it gets a 429 problem with Retry-After and RateLimit headers', async () => {
  const service = await start({ RATE_LIMIT_REQUESTS: '3' });
  const answers = [];
  for (let i = 0; i < 5; i++) answers.push(await get(service));
  expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429, 429]);
  expect(answers[0]?.headers['ratelimit-policy']).toBe('"api";q=3;w=60');
  expect(answers[0]?.headers.ratelimit).toMatch(/^"api";r=2;t=\d+$/);
  const limited = answers[3]!;
  expect(limited.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
  expect(limited.headers.ratelimit).toMatch(/^"api";r=0;t=\d+$/);
  expect(limited.headers['x-content-type-options']).toBe('nosniff');
  expect(JSON.parse(limited.body)).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
  // Probes are never limited.
  expect((await fetch(`${service.url}/health/liveness`)).status).toBe(200);
  const text = await service.metricsText();
  expect(sample(text, 'rate_limit_decisions_total', { result: 'allowed' })).toBe(3);
  expect(sample(text, 'rate_limit_decisions_total', { result: 'limited' })).toBe(2);
});

// The tests connect from loopback: that is the trusted proxy.
const LOOPBACK_PROXY = { TRUSTED_PROXY_HOPS: '1', TRUSTED_PROXY_CIDRS: '127.0.0.0/8, ::1' };

test('When TRUSTED_PROXY_HOPS is 1, then clients are told apart by the last X-Forwarded-For entry, whatever they put left of it', async () => {
  const service = await start({ RATE_LIMIT_REQUESTS: '2', ...LOOPBACK_PROXY });
  const a = { 'X-Forwarded-For': '203.0.113.7' };
  expect((await get(service, a)).status).toBe(200);
  expect((await get(service, a)).status).toBe(200);
  // A spoofed entry on the left does not buy a new budget: the proxy's own entry is the last one.
  expect((await get(service, { 'X-Forwarded-For': '1.2.3.4, 203.0.113.7' })).status).toBe(429);
  // Nor does the same client with a port, in brackets or quoted, or an address of the same IPv6 /64.
  expect((await get(service, { 'X-Forwarded-For': '203.0.113.7:5678' })).status).toBe(429);
  expect((await get(service, { 'X-Forwarded-For': '"203.0.113.7:1"' })).status).toBe(429);
  expect((await get(service, { 'X-Forwarded-For': '[2001:db8:1:2::1]:443' })).status).toBe(200);
  expect((await get(service, { 'X-Forwarded-For': '2001:db8:1:2::2' })).status).toBe(200);
  expect((await get(service, { 'X-Forwarded-For': '2001:db8:1:2:ffff::9' })).status).toBe(429);
  expect((await get(service, { 'X-Forwarded-For': '203.0.113.8' })).status).toBe(200);
  // An entry that is no address: the proxy (the peer) is the client, counted as a fallback.
  expect((await get(service, { 'X-Forwarded-For': 'unknown' })).status).toBe(200);
  expect(sample(await service.metricsText(), 'rate_limit_identity_fallbacks_total')).toBe(1);
});

test('When the TCP peer is not inside TRUSTED_PROXY_CIDRS, then its X-Forwarded-For is ignored: a random entry per request buys no budget', async () => {
  const service = await start({
    RATE_LIMIT_REQUESTS: '2',
    TRUSTED_PROXY_HOPS: '1',
    TRUSTED_PROXY_CIDRS: '192.0.2.0/24',
  });
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++)
    statuses.push((await get(service, { 'X-Forwarded-For': `198.51.100.${i}` })).status);
  expect(statuses).toEqual([200, 200, 429, 429]);
});

test('When TRUSTED_PROXY_HOPS is set without TRUSTED_PROXY_CIDRS, then the service refuses to start', async () => {
  await expect(startService({ MOCK_EXCHANGE_URL: mock.url, TRUSTED_PROXY_HOPS: '1' })).rejects.toThrow();
});

test('When two replicas share a Redis, then a client has one budget across both; Redis down lets requests through, counted', async () => {
  const env = {
    RATE_LIMIT_REQUESTS: '6',
    ...LOOPBACK_PROXY,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: `rl-${Date.now()}:`,
  };
  const [one, two] = [await start(env), await start(env)];
  const client = (address: string) => ({ 'X-Forwarded-For': address });
  const statuses: number[] = [];
  for (let i = 0; i < 10; i++)
    statuses.push((await get(i % 2 === 0 ? one : two, client('192.0.2.1'))).status);
  expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429, 429, 429]);

  await redis.kill();
  // A client that has not been refused yet: with the store gone, nothing refuses it, and nothing fails.
  const during: number[] = [];
  for (let i = 0; i < 10; i++) during.push((await get(i % 2 === 0 ? one : two, client('192.0.2.2'))).status);
  expect(during).toEqual(Array(10).fill(200));
  const errors = async (service: TestService) =>
    sample(await service.metricsText(), 'rate_limit_decisions_total', { result: 'error' }) ?? 0;
  expect((await errors(one)) + (await errors(two))).toBe(10);

  // Back without a restart: ioredis reconnects and the budget is enforced again.
  await redis.restart();
  await eventually(
    async () => (await get(one, client('192.0.2.3'))).headers.ratelimit,
    (state) => state !== undefined,
    { what: 'the limiter using Redis again', timeoutMs: 10_000, intervalMs: 200 },
  );
}, 60_000);
