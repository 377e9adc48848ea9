import fc from 'fast-check';
import { startMockExchange, type MockExchange } from '../../../mock-exchange/src/mock-exchange';
import { eventually } from '../helpers/metrics';
import { exchange, header, parseResponses, type RawResponse } from '../helpers/raw-http';
import { startService, type TestService } from '../helpers/service';

/**
 * Property-based fuzzing of the real server over sockets: methods, paths, query strings, headers (huge,
 * malformed, duplicated, many), If-None-Match lists and bodies on GET. Every response must be a well-formed
 * problem+json 4xx or a correct 2xx/304 with the security headers, never a 5xx, a hang or a crash.
 * Seeded, so a failure is reproducible: FUZZ_SEED and FUZZ_RUNS override the defaults.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);
const PRICE_PATH = '/api/v1/prices/eth-usdt';
const MAX_BODY_BYTES = 1024;
const MAX_HEADER_BYTES = 8192;

let mock: MockExchange;
let etag = 'W/"none"';

beforeAll(async () => {
  mock = await startMockExchange();
});
afterAll(async () => {
  await mock?.close();
});

// --- generators ------------------------------------------------------------------------------------------

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
});
const anyByteText = fc.string({ unit: fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)) });

const method = fc.oneof(
  { weight: 14, arbitrary: fc.constantFrom('GET', 'HEAD') },
  { weight: 3, arbitrary: fc.constantFrom('POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT') },
  { weight: 1, arbitrary: fc.oneof(token, fc.constantFrom('get', 'BREW', 'G ET', '')) },
);

const segment = fc.oneof(
  fc.constantFrom(
    'api',
    'v1',
    'prices',
    'eth-usdt',
    'ETH-USDT',
    'btc-usdt',
    'health',
    'liveness',
    'readiness',
  ),
  fc.constantFrom('..', '.', '%2e%2e', '%00', '%ff', '%', '%zz', '~', 'openapi.json', ''),
  printable.map((s) => encodeURIComponent(s)),
);
const path = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.constantFrom(
      PRICE_PATH,
      PRICE_PATH,
      '/api/',
      '/api/openapi.json',
      '/health/liveness',
      '/health/readiness',
      '/',
      '/api/v1/prices/ETH-USDT',
      '/api/v1/prices/btc-usdt',
      '/api/v1/prices/eth-usdt/',
      '//api/v1/prices/eth-usdt',
      '*',
      'http://example.com/api/v1/prices/eth-usdt',
    ),
  },
  { weight: 3, arbitrary: fc.array(segment, { maxLength: 8 }).map((s) => `/${s.join('/')}`) },
  // Past MAX_HEADER_BYTES: 431.
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 * MAX_HEADER_BYTES }).map((n) => `/${'a'.repeat(n)}`) },
  // Bytes the request line may not carry: the parser must say 400, not the server 500.
  { weight: 1, arbitrary: anyByteText.map((s) => `/${s}`) },
);
const query = fc.oneof(
  fc.constant(''),
  fc
    .array(fc.tuple(printable, printable), { maxLength: 6 })
    .map(
      (pairs) => `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`,
    ),
  printable.map((s) => `?${s.replace(/[ #]/g, '')}`),
);
const version = fc.oneof(
  { weight: 20, arbitrary: fc.constant('HTTP/1.1') },
  { weight: 1, arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/1.2', 'HTTX/1.1', 'HTTP/0.9', '') },
);

const etagItem = fc.oneof(
  fc.constantFrom('*', 'W/"x"', '"abc"', 'W/', '""', ',', 'W/"'),
  fc.constant('CURRENT'),
  printable,
);
const ifNoneMatch = fc.array(etagItem, { minLength: 1, maxLength: 20 }).map((items) => items.join(', '));

const headerName = fc.oneof(
  {
    weight: 16,
    arbitrary: fc.constantFrom(
      'Accept',
      'Origin',
      'X-Forwarded-For',
      'traceparent',
      'Connection',
      'Upgrade',
      'Expect',
      'Cookie',
      'Range',
      'Accept-Encoding',
      'If-Modified-Since',
      'Content-Type',
      'Host',
    ),
  },
  { weight: 4, arbitrary: token },
  // Not a token: the parser must reject it.
  { weight: 1, arbitrary: fc.constantFrom('Bad Name', 'Bad:Name', '', 'X\u0000Y') },
);
const headerValue = fc.oneof(
  { weight: 30, arbitrary: printable },
  { weight: 1, arbitrary: anyByteText },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 * MAX_HEADER_BYTES }).map((n) => 'v'.repeat(n)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('100-continue', 'upgrade', 'close', 'websocket', 'h2c', 'keep-alive, Upgrade'),
  },
);
const headers = fc.oneof(
  { weight: 8, arbitrary: fc.array(fc.tuple(headerName, headerValue), { maxLength: 8 }) },
  // Many headers, and one header many times.
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 50, max: 400 })
      .map((n) => Array.from({ length: n }, (_, i) => [`X-H${i % 7}`, `value-${i}`] as [string, string])),
  },
);

const body = fc.oneof(
  { weight: 12, arbitrary: fc.constant({ kind: 'none' as const }) },
  {
    weight: 2,
    arbitrary: fc
      .integer({ min: 0, max: 2 * MAX_BODY_BYTES })
      .map((n) => ({ kind: 'length' as const, bytes: 'b'.repeat(n) })),
  },
  {
    weight: 1,
    arbitrary: fc.array(printable, { maxLength: 4 }).map((chunks) => ({ kind: 'chunked' as const, chunks })),
  },
  // Framing that lies: two Content-Lengths, a bad chunk size, Content-Length with chunked.
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      { kind: 'raw' as const, text: 'Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd' },
      { kind: 'raw' as const, text: 'Transfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n' },
      { kind: 'raw' as const, text: 'Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n' },
      { kind: 'raw' as const, text: 'Content-Length: -1\r\n\r\n' },
      { kind: 'raw' as const, text: 'Content-Length: 2\r\n\r\nabGET / HTTP/1.1\r\nHost: x\r\n\r\n' },
    ),
  },
);

const request = fc.record({
  method,
  path,
  query,
  version,
  host: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  ifNoneMatch: fc.option(ifNoneMatch, { freq: 3 }),
  headers,
  body,
});
type FuzzRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

function render(r: FuzzRequest): Buffer {
  const lines = [`${r.method} ${r.path}${r.query} ${r.version}`];
  if (r.host) lines.push('Host: 127.0.0.1');
  if (r.ifNoneMatch !== null) lines.push(`If-None-Match: ${r.ifNoneMatch.replaceAll('CURRENT', etag)}`);
  for (const [name, value] of r.headers) lines.push(`${name}: ${value}`);
  let tail = '\r\n';
  if (r.body.kind === 'length') {
    lines.push(`Content-Length: ${r.body.bytes.length}`);
    tail = `\r\n${r.body.bytes}`;
  } else if (r.body.kind === 'chunked') {
    lines.push('Transfer-Encoding: chunked');
    tail = `\r\n${r.body.chunks.map((c) => `${Buffer.byteLength(c).toString(16)}\r\n${c}\r\n`).join('')}0\r\n\r\n`;
  } else if (r.body.kind === 'raw') {
    return Buffer.from(`${lines.join('\r\n')}\r\n${r.body.text}`, 'latin1');
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n${tail}`, 'latin1');
}

// --- what every response must be ---------------------------------------------------------------------------

function checkResponse(response: RawResponse, answersHead: boolean): void {
  const where = `${response.status} ${JSON.stringify(response.headers)} ${response.body.toString().slice(0, 300)}`;
  const ok =
    response.status === 200 ||
    response.status === 204 ||
    response.status === 304 ||
    (response.status >= 400 && response.status < 500);
  if (!ok) throw new Error(`status outside 200/204/304/4xx: ${where}`);
  if (header(response, 'x-content-type-options') !== 'nosniff')
    throw new Error(`no security headers: ${where}`);
  if (header(response, 'x-powered-by') !== undefined || header(response, 'server') !== undefined) {
    throw new Error(`a version banner: ${where}`);
  }
  if (response.status >= 400) {
    if (!header(response, 'content-type')?.startsWith('application/problem+json')) {
      throw new Error(`a 4xx that is not problem+json: ${where}`);
    }
    if (answersHead) return;
    const problem = JSON.parse(response.body.toString()) as Record<string, unknown>;
    const wellFormed =
      typeof problem.type === 'string' &&
      problem.type.startsWith('urn:problem-type:eth-usdt-price-service:') &&
      typeof problem.title === 'string' &&
      problem.status === response.status &&
      typeof problem.code === 'string' &&
      /^[A-Z_]+$/.test(problem.code);
    if (!wellFormed) throw new Error(`a malformed problem: ${where}`);
  } else if (response.status === 200 && !answersHead) {
    const type = header(response, 'content-type') ?? '';
    // The live page at / is the one HTML answer, with its own self-only CSP.
    if (type === 'text/html; charset=utf-8') {
      if (!response.body.toString().startsWith('<!doctype html>'))
        throw new Error(`HTML that is not the page: ${where}`);
      if (!header(response, 'content-security-policy')?.includes("script-src 'self'"))
        throw new Error(`the page without its CSP: ${where}`);
      return;
    }
    if (!type.startsWith('application/json')) throw new Error(`200 not JSON: ${where}`);
    JSON.parse(response.body.toString());
  } else if (response.status === 304 && response.body.length > 0) {
    throw new Error(`304 with a body: ${where}`);
  }
}

/** 5xx responses the server counted, over every route and method. */
function fiveHundreds(metrics: string): number {
  let total = 0;
  for (const line of metrics.split('\n')) {
    const match = /^http_request_duration_seconds_count\{.*status_code="5\d\d"\} (\d+)/.exec(line);
    if (match !== null) total += Number(match[1]);
  }
  return total;
}

async function fuzz(service: TestService, runs: number): Promise<void> {
  const port = Number(new URL(service.url).port);
  etag = (await fetch(`${service.url}${PRICE_PATH}`)).headers.get('etag') ?? etag;
  // The start-up wait saw 503s before the first price: only what the fuzzing adds counts.
  const fiveHundredsBefore = fiveHundreds(await service.metricsText());
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      const bytes = render(r);
      const { raw, hung } = await exchange(port, bytes, 5000);
      if (hung) throw new Error('no answer and no close within 5 s');
      const responses = parseResponses(raw, r.method === 'HEAD').filter((x) => x.status >= 200);
      if (responses.length === 0)
        throw new Error(`no response at all (got ${JSON.stringify(raw.toString())})`);
      responses.forEach((response, i) => checkResponse(response, i === 0 && r.method === 'HEAD'));
      for (const response of responses)
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    }),
    { seed: SEED, numRuns: runs, endOnFailure: true },
  );
  // Still alive and serving, and not one 5xx was counted.
  expect((await fetch(`${service.url}${PRICE_PATH}`)).status).toBe(200);
  expect(fiveHundreds(await service.metricsText())).toBe(fiveHundredsBefore);
  const counts = [...statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status}: ${n}`);
  process.stdout.write(`[fuzz] seed ${SEED}, ${runs} requests; responses by status: ${counts.join(', ')}\n`);
}

const LIMITS = { MAX_BODY_BYTES: String(MAX_BODY_BYTES), MAX_HEADER_BYTES: String(MAX_HEADER_BYTES) };

test(`When ${RUNS} seeded random requests hit the default configuration, then every answer is a correct 2xx/304 or a problem+json 4xx`, async () => {
  const service = await startService({ MOCK_EXCHANGE_URL: mock.url, ...LIMITS });
  try {
    await eventually(
      async () => (await fetch(`${service.url}${PRICE_PATH}`)).status,
      (s) => s === 200,
    );
    await fuzz(service, RUNS);
  } finally {
    await service.stop();
  }
}, 120_000);

test(`When ${Math.ceil(RUNS / 2)} more hit it with CORS and the rate limiter on, then the same holds`, async () => {
  const service = await startService({
    MOCK_EXCHANGE_URL: mock.url,
    ...LIMITS,
    CORS_ALLOW_ORIGINS: 'https://app.example.com,http://localhost:3000',
    RATE_LIMIT_REQUESTS: '1000000',
    TRUSTED_PROXY_HOPS: '1',
    TRUSTED_PROXY_CIDRS: '127.0.0.0/8, ::1',
  });
  try {
    await eventually(
      async () => (await fetch(`${service.url}${PRICE_PATH}`)).status,
      (s) => s === 200,
    );
    await fuzz(service, Math.ceil(RUNS / 2));
  } finally {
    await service.stop();
  }
}, 120_000);
