import net from 'node:net';
import { EXCHANGES, startMockExchange, type MockExchange } from '../../../mock-exchange/src/mock-exchange';
import { eventually, sample } from '../helpers/metrics';
import { exchange, header, parseResponses } from '../helpers/raw-http';
import { startService, type TestService } from '../helpers/service';

// Security headers, CORS and the request guard of the real server, over sockets.
const PRICE_PATH = '/api/v1/prices/eth-usdt';
let mock: MockExchange;
const services: TestService[] = [];

beforeAll(async () => {
  mock = await startMockExchange();
});
afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await mock?.close();
});

async function start(env: Record<string, string> = {}): Promise<TestService> {
  const service = await startService({ MOCK_EXCHANGE_URL: mock.url, ...env });
  services.push(service);
  await eventually(
    async () => (await fetch(`${service.url}${PRICE_PATH}`)).status,
    (s) => s === 200,
    { what: 'a price' },
  );
  return service;
}
const portOf = (service: TestService) => Number(new URL(service.url).port);
const raw = async (service: TestService, request: string) => {
  const { raw: bytes } = await exchange(portOf(service), request);
  return parseResponses(bytes);
};

describe('a fresh service', () => {
  test('When nothing has gone wrong yet, then /metrics already has every known labelled series at 0', async () => {
    // No mock exchange behind it: nothing happens but the start itself.
    const service = await startService({ MOCK_EXCHANGE_URL: 'http://127.0.0.1:9' });
    services.push(service);
    const text = await service.metricsText();
    const outcomes = ['success', 'http_error', 'timeout', 'unreachable', 'invalid_body', 'body_error'];
    for (const source of EXCHANGES) {
      for (const reason of ['rejected_outlier', 'stale', 'error', 'circuit_open', 'rate_limited']) {
        expect(
          sample(text, 'price_source_rejections_total', { pair: 'eth-usdt', source, reason }),
        ).toBeDefined();
      }
      for (const outcome of [...outcomes, 'rate_limited', 'circuit_open', 'cooling_down']) {
        expect(sample(text, 'upstream_requests_total', { source, outcome })).toBeDefined();
      }
      expect(sample(text, 'upstream_retries_total', { source })).toBeDefined();
      expect(sample(text, 'upstream_requests_total', { source, outcome: 'rate_limited' })).toBe(0);
      expect(sample(text, 'price_source_rejections_total', { source, reason: 'rejected_outlier' })).toBe(0);
    }
    for (const result of ['allowed', 'limited', 'error']) {
      expect(sample(text, 'rate_limit_decisions_total', { result })).toBe(0);
    }
    for (const reason of ['bad_request', 'header_fields_too_large', 'request_timeout', 'payload_too_large']) {
      expect(sample(text, 'http_rejected_requests_total', { reason })).toBe(0);
    }
    for (const status of ['ok', 'degraded', 'stale', 'unavailable', 'not_modified']) {
      expect(sample(text, 'price_responses_total', { pair: 'eth-usdt', status })).toBe(0);
    }
    for (const code of ['500', '503']) {
      expect(
        sample(text, 'http_request_duration_seconds_count', {
          route: '/api/v1/prices/:pair',
          status_code: code,
        }),
      ).toBe(0);
    }
    expect(sample(text, 'price_refresh_rounds_total', { result: 'published' })).toBeDefined();
    expect(sample(text, 'http_connections_dropped_total')).toBe(0);
  });
});

describe('security headers', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await start();
  });

  test('When any kind of response is sent, then it carries the same security headers and no banner', async () => {
    const price = await fetch(`${service.url}${PRICE_PATH}`);
    const notModified = await fetch(`${service.url}${PRICE_PATH}`, {
      headers: { 'If-None-Match': price.headers.get('etag') as string },
    });
    const notFound = await fetch(`${service.url}/nope`);
    const index = await fetch(`${service.url}/api/`);
    const [parseError] = await raw(service, 'GET / HTTP/1.1\r\nBad Header\r\n\r\n');
    for (const headers of [price.headers, notModified.headers, notFound.headers, index.headers]) {
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      expect(headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
      expect(headers.get('x-frame-options')).toBe('DENY');
      expect(headers.get('referrer-policy')).toBe('no-referrer');
      expect(headers.get('x-powered-by')).toBeNull();
      expect(headers.get('server')).toBeNull();
      // CORS is off unless configured.
      expect(headers.get('access-control-allow-origin')).toBeNull();
    }
    expect(parseError?.status).toBe(400);
    expect(header(parseError!, 'x-content-type-options')).toBe('nosniff');
    expect(header(parseError!, 'content-type')).toBe('application/problem+json; charset=utf-8');
  });
});

describe('request guard', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await start({ MAX_BODY_BYTES: '16', MAX_HEADER_BYTES: '2048', HEADERS_TIMEOUT_MS: '500' });
  });
  const problemOf = (body: Buffer) => JSON.parse(body.toString()) as { code: string; status: number };

  test('When a GET declares a body over MAX_BODY_BYTES, then it is answered 413 and the connection closed', async () => {
    const [response] = await raw(
      service,
      `GET ${PRICE_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n${'b'.repeat(17)}`,
    );
    expect(response?.status).toBe(413);
    expect(problemOf(response!.body).code).toBe('PAYLOAD_TOO_LARGE');
    expect(header(response!, 'connection')).toBe('close');
    const [small] = await raw(
      service,
      `GET ${PRICE_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 16\r\n\r\n${'b'.repeat(16)}`,
    );
    expect(small?.status).toBe(200);
  });

  test('When the headers exceed MAX_HEADER_BYTES, then the answer is a 431 problem', async () => {
    const [response] = await raw(
      service,
      `GET ${PRICE_PATH} HTTP/1.1\r\nHost: x\r\nX-Big: ${'v'.repeat(3000)}\r\n\r\n`,
    );
    expect(response?.status).toBe(431);
    expect(problemOf(response!.body).code).toBe('REQUEST_HEADER_FIELDS_TOO_LARGE');
  });

  test('When an HTTP/1.1 request has no Host, then it is a 400 problem; HTTP/1.0 needs none', async () => {
    const [response] = await raw(service, `GET ${PRICE_PATH} HTTP/1.1\r\n\r\n`);
    expect(response?.status).toBe(400);
    expect(problemOf(response!.body).code).toBe('BAD_REQUEST');
    const [old] = await raw(service, `GET ${PRICE_PATH} HTTP/1.0\r\n\r\n`);
    expect(old?.status).toBe(200);
  });

  test('When Expect is not 100-continue, or the method is CONNECT, then the answer is a 417 or 405 problem', async () => {
    const [expectation] = await raw(service, `GET ${PRICE_PATH} HTTP/1.1\r\nHost: x\r\nExpect: tea\r\n\r\n`);
    expect(expectation?.status).toBe(417);
    expect(problemOf(expectation!.body).code).toBe('EXPECTATION_FAILED');
    const [connect] = await raw(service, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(connect?.status).toBe(405);
    expect(header(connect!, 'allow')).toBe('GET, HEAD');
  });

  test('When a client sends its headers too slowly, then it gets a 408 problem and the socket is closed', async () => {
    const started = Date.now();
    const answer = await new Promise<{ text: string; closedAfterMs: number }>((resolve) => {
      const socket = net.connect(portOf(service), '127.0.0.1');
      let text = '';
      socket.on('connect', () => socket.write(`GET ${PRICE_PATH} HTTP/1.1\r\nHost: x\r\n`));
      const drip = setInterval(() => socket.write('X-Slow: 1\r\n'), 100);
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearInterval(drip);
        resolve({ text, closedAfterMs: Date.now() - started });
      });
    });
    expect(answer.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer.text).toContain('"code":"REQUEST_TIMEOUT"');
    // 500 ms timeout, checked every 500 ms: closed well before a default 30 s check would.
    expect(answer.closedAfterMs).toBeLessThan(5000);
    expect(
      sample(await service.metricsText(), 'http_rejected_requests_total', { reason: 'request_timeout' }),
    ).toBeGreaterThanOrEqual(1);
  });
});

describe('CORS', () => {
  test('When CORS_ALLOW_ORIGINS lists origins, then only those are echoed, with Vary: Origin, and preflights answered', async () => {
    const service = await start({ CORS_ALLOW_ORIGINS: 'https://app.example.com' });
    const allowed = await fetch(`${service.url}${PRICE_PATH}`, {
      headers: { Origin: 'https://app.example.com' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(allowed.headers.get('vary')).toBe('Origin');
    expect(allowed.headers.get('access-control-expose-headers')).toContain('ETag');
    const other = await fetch(`${service.url}${PRICE_PATH}`, { headers: { Origin: 'https://evil.example' } });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const notFound = await fetch(`${service.url}/nope`, { headers: { Origin: 'https://app.example.com' } });
    expect(notFound.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const preflight = await fetch(`${service.url}${PRICE_PATH}`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'GET' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toBe('GET, HEAD');
    const refused = await fetch(`${service.url}${PRICE_PATH}`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' },
    });
    expect(refused.status).toBe(405);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('When CORS_ALLOW_ORIGINS is "*", then every response allows any origin', async () => {
    const service = await start({ CORS_ALLOW_ORIGINS: '*' });
    const price = await fetch(`${service.url}${PRICE_PATH}`);
    expect(price.headers.get('access-control-allow-origin')).toBe('*');
    const notFound = await fetch(`${service.url}/nope`);
    expect(notFound.headers.get('access-control-allow-origin')).toBe('*');
  });
});
