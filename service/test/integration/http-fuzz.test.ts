import fc from 'fast-check';
import { startMockExchange, type MockExchange } from '../../../mock-exchange/src/mock-exchange';
import { eventually } from '../helpers/metrics';
import { RawConnection, header, parseResponses, type RawResponse } from '../helpers/raw-http';
import { startService, type TestService } from '../helpers/service';

/**
 * Property-based fuzzing of the real server over sockets: methods, paths (the history routes' instants and
 * ranges among them), query strings (their parameters, good and bad), headers (huge,
 * malformed, duplicated, many), If-None-Match lists and bodies on GET. Every response must be a well-formed
 * problem+json 4xx or a correct 2xx/304 with the security headers, never a 5xx, a hang or a crash.
 * Requests are written without a FIN, so a server waiting for bytes it will never get shows as a hang
 * (no complete answer and no close within 1 s); and while the connection stays open a known-good GET
 * follows on the same socket and must get a correct 200: a request must not leave its connection broken.
 * With CORS and the rate limiter on, Origin is mostly an allowed one or a near miss and X-Forwarded-For
 * mostly from a small pool of clients with a small budget: Access-Control-Allow-Origin exactly when
 * allowed, and 429s and RateLimit headers in their documented forms.
 * Seeded, so a failure is reproducible: FUZZ_SEED and FUZZ_RUNS override the defaults.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);
const PRICE_PATH = '/api/v1/prices/eth-usdt';
const MAX_BODY_BYTES = 1024;
const MAX_HEADER_BYTES = 8192;
const ALLOWED_ORIGINS = ['https://app.example.com', 'http://localhost:3000'];
const BUDGET = 10;
const WINDOW_SECONDS = 60;
const PROBE_PATHS = new Set(['/health/liveness', '/health/readiness']);
/** Codes of answers given before the request listener (parser, guard): CORS has not run for them. */
const BEFORE_LISTENER = new Set([
  'BAD_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'EXPECTATION_FAILED',
  'REQUEST_HEADER_FIELDS_TOO_LARGE',
  'REQUEST_TIMEOUT',
  'METHOD_NOT_ALLOWED',
]);

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
// The history routes: instants and ranges around now, long ago, in the future, and not times at all.
const NOW = Date.now();
const timeText = fc.oneof(
  fc.constantFrom(
    String(NOW - 2_000),
    new Date(NOW - 2_000).toISOString(),
    new Date(NOW - 3_600_000).toISOString().replace('Z', '+00:00'),
    String(NOW + 86_400_000),
    '0',
    '2025-02-30T00:00:00Z',
    '2025-06-15T24:00:00Z',
    '2025-06-15T12:00:00+25:00',
    '2025-06-15T12:00:00.123456789Z',
    '99999999999999999',
    'yesterday',
    '',
  ),
  fc.integer({ min: 0, max: 9_999_999_999_999 }).map(String),
  printable,
);
const historyPath = fc.oneof(
  timeText.map((t) => `${PRICE_PATH}/at/${encodeURIComponent(t)}`),
  fc.constantFrom(
    `${PRICE_PATH}/candles`,
    `${PRICE_PATH}/twap`,
    '/api/v1/prices',
    '/api/v1/prices/btc-usdt/candles',
    '/api/v1/prices/btc-usdt/at/0',
    `${PRICE_PATH}/at/`,
    `${PRICE_PATH}/at/1/2`,
    `${PRICE_PATH}/CANDLES`,
  ),
);
const historyQuery = fc
  .array(
    fc.oneof(
      fc.tuple(fc.constant('interval'), fc.constantFrom('1s', '1m', '5m', '15m', '1h', '1d', '2m', '', '1S')),
      fc.tuple(fc.constantFrom('from', 'to'), timeText),
      fc.tuple(fc.constant('fill'), fc.constantFrom('none', 'previous', 'linear')),
      fc.tuple(fc.constant('limit'), fc.constantFrom('1', '1500', '0', '1501', '-1', '1e3')),
      fc.tuple(fc.constant('cursor'), fc.oneof(fc.constantFrom('YzE6MA', 'YzE6', ''), printable)),
      fc.tuple(
        fc.constant('window'),
        fc.constantFrom('5m', '1s', '0s', '24h', '25h', '1d', 'abc', '999999999d'),
      ),
      fc.tuple(
        fc.constant('pairs'),
        fc.constantFrom('eth-usdt', 'eth-usdt,btc-usdt', 'doge-usdt', '', ',,', 'eth-usdt,'.repeat(30)),
      ),
    ),
    { maxLength: 5 },
  )
  .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`);

const path = fc.oneof(
  { weight: 4, arbitrary: historyPath },
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
  historyQuery,
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

const origin = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...ALLOWED_ORIGINS) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'https://app.example.com.evil.test',
      'https://evil.app.example.com',
      'http://app.example.com',
      'HTTPS://APP.EXAMPLE.COM',
      'http://localhost:3001',
      'https://app.example.com/',
      'null',
      '*',
    ),
  },
  { weight: 1, arbitrary: printable },
);
/** Twenty clients, each in two of the forms proxies write. */
const CLIENTS = Array.from({ length: 10 }, (_, i) => [
  [`203.0.113.${i + 1}`, `203.0.113.${i + 1}:${1000 + i}`],
  [`[2001:db8:${i}::1]:443`, `2001:db8:${i}:0:ffff::${i + 2}`],
]).flat();
const forwardedFor = fc
  .integer({ min: 0, max: CLIENTS.length - 1 })
  .chain((client) => fc.constantFrom(...(CLIENTS[client] as string[])));

const request = fc.record({
  method,
  path,
  query,
  version,
  host: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  ifNoneMatch: fc.option(ifNoneMatch, { freq: 3 }),
  headers,
  body,
  origin: fc.option(origin, { freq: 10 }),
  forwardedFor: fc.option(forwardedFor, { freq: 10 }),
});
type FuzzRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

/** `limits`: the second run's Origin and X-Forwarded-For, in place of any fuzzed Origin. */
function render(r: FuzzRequest, limits: boolean): Buffer {
  const lines = [`${r.method} ${r.path}${r.query} ${r.version}`];
  if (r.host) lines.push('Host: 127.0.0.1');
  if (r.ifNoneMatch !== null) lines.push(`If-None-Match: ${r.ifNoneMatch.replaceAll('CURRENT', etag)}`);
  for (const [name, value] of r.headers)
    if (!limits || name.toLowerCase() !== 'origin') lines.push(`${name}: ${value}`);
  if (limits && r.origin !== null) lines.push(`Origin: ${r.origin}`);
  if (limits && r.forwardedFor !== null) lines.push(`X-Forwarded-For: ${r.forwardedFor}`);
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

/** CORS and the rate limit: with both off, neither header; with both on, each exactly when it should be. */
function checkLimits(r: FuzzRequest, response: RawResponse, limits: boolean): void {
  const where = `${response.status} ${JSON.stringify(response.headers)}`;
  const allowOrigin = header(response, 'access-control-allow-origin');
  const rateLimit = header(response, 'ratelimit');
  if (!limits) {
    if (allowOrigin !== undefined || rateLimit !== undefined || header(response, 'ratelimit-policy'))
      throw new Error(`CORS or rate limit headers with both off: ${where}`);
    return;
  }
  const code =
    response.status >= 400 && response.body.length > 0
      ? String((JSON.parse(response.body.toString()) as { code?: unknown }).code)
      : undefined;
  const allowed = r.origin !== null && ALLOWED_ORIGINS.includes(r.origin);
  if (!allowed && allowOrigin !== undefined) throw new Error(`ACAO for origin ${r.origin}: ${where}`);
  if (allowed && allowOrigin !== undefined && allowOrigin !== r.origin)
    throw new Error(`ACAO is not the request's origin ${r.origin}: ${where}`);
  // A HEAD's problem has no body to tell: only its absence of a wrong ACAO is checked.
  const throughListener = response.status < 400 || (code !== undefined && !BEFORE_LISTENER.has(code));
  if (allowed && allowOrigin === undefined && throughListener)
    throw new Error(`no ACAO for the allowed origin ${r.origin}: ${where}`);
  if (!response.headers.some(([n, v]) => n === 'vary' && /\bOrigin\b/i.test(v)))
    throw new Error(`no Vary: Origin: ${where}`);
  if (response.status === 429) {
    if (code !== undefined && code !== 'RATE_LIMITED')
      throw new Error(`a 429 that is not RATE_LIMITED: ${where}`);
    const retryAfter = Number(header(response, 'retry-after'));
    if (!/^[1-9]\d*$/.test(header(response, 'retry-after') ?? '') || retryAfter > WINDOW_SECONDS)
      throw new Error(`a 429 without a good Retry-After: ${where}`);
    if (!/^"api";r=0;t=[1-9]\d*$/.test(rateLimit ?? '')) throw new Error(`429 RateLimit: ${where}`);
  }
  const limited = !PROBE_PATHS.has(`${r.path}${r.query}`);
  if (limited && (response.status < 300 || response.status === 304 || response.status === 429)) {
    if (!/^"api";r=\d+;t=[1-9]\d*$/.test(rateLimit ?? '')) throw new Error(`no RateLimit: ${where}`);
    if (header(response, 'ratelimit-policy') !== `"api";q=${BUDGET};w=${WINDOW_SECONDS}`)
      throw new Error(`no RateLimit-Policy: ${where}`);
  }
  if (!limited && rateLimit !== undefined) throw new Error(`a probe counted by the limiter: ${where}`);
}

function saysClose(responses: readonly RawResponse[]): boolean {
  return responses.some((r) => /(^|,)\s*close\s*(,|$)/i.test(header(r, 'connection') ?? ''));
}

async function fuzz(service: TestService, runs: number, limits = false): Promise<void> {
  const port = Number(new URL(service.url).port);
  // With the limiter on, the test's own requests come as a client of their own.
  const own = { headers: { 'X-Forwarded-For': '198.18.255.254' } };
  etag = (await fetch(`${service.url}${PRICE_PATH}`, own)).headers.get('etag') ?? etag;
  // The start-up wait saw 503s before the first price: only what the fuzzing adds counts.
  const fiveHundredsBefore = fiveHundreds(await service.metricsText());
  const statuses = new Map<number, number>();
  let kept = 0;
  let followUps = 0;
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      const head = r.method === 'HEAD';
      // The one generated request that pipelines a second one behind its body.
      const expected = r.body.kind === 'raw' && r.body.text.includes('abGET') ? 2 : 1;
      const connection = await RawConnection.open(port);
      try {
        const reply = await connection.send(render(r, limits), { expected, headRequest: head });
        if (reply.hung)
          throw new Error(
            `no complete answer and no close within 1 s (got ${JSON.stringify(reply.raw.toString().slice(0, 300))})`,
          );
        const responses = parseResponses(reply.raw, head).filter((x) => x.status >= 200);
        if (responses.length === 0)
          throw new Error(`no response at all (got ${JSON.stringify(reply.raw.toString())})`);
        responses.forEach((response, i) => checkResponse(response, i === 0 && head));
        checkLimits(r, responses[0] as RawResponse, limits);
        for (const response of responses)
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (reply.closed || saysClose(responses)) return;
        // Kept alive: the connection must still serve a plain request correctly (or be closed).
        kept++;
        const client = limits ? `X-Forwarded-For: 198.18.${(kept >> 8) & 255}.${kept & 255}\r\n` : '';
        const next = await connection.send(`GET ${PRICE_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n${client}\r\n`);
        if (next.hung) throw new Error('the follow-up GET on the kept-alive connection hung');
        if (next.raw.length === 0 && next.closed) return;
        const answers = parseResponses(next.raw).filter((x) => x.status >= 200);
        const answer = answers[0];
        if (answers.length !== 1 || answer === undefined || answer.status !== 200)
          throw new Error(`the follow-up GET got ${JSON.stringify(next.raw.toString().slice(0, 300))}`);
        checkResponse(answer, false);
        if ((JSON.parse(answer.body.toString()) as { pair?: unknown }).pair !== 'ETH/USDT')
          throw new Error(`the follow-up GET got another body: ${answer.body.toString().slice(0, 200)}`);
        followUps++;
      } finally {
        connection.close();
      }
    }),
    { seed: SEED, numRuns: runs, endOnFailure: true },
  );
  // Still alive and serving, and not one 5xx was counted.
  expect((await fetch(`${service.url}${PRICE_PATH}`, own)).status).toBe(200);
  expect(fiveHundreds(await service.metricsText())).toBe(fiveHundredsBefore);
  // The follow-up really ran on most connections, and with the limiter on the budget was really spent.
  expect(followUps).toBeGreaterThan(runs / 3);
  if (limits) expect(statuses.get(429) ?? 0).toBeGreaterThan(runs / 10);
  const counts = [...statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status}: ${n}`);
  process.stdout.write(
    `[fuzz] seed ${SEED}, ${runs} requests, ${followUps} follow-ups on kept-alive connections; responses by status: ${counts.join(', ')}\n`,
  );
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
    CORS_ALLOW_ORIGINS: ALLOWED_ORIGINS.join(','),
    RATE_LIMIT_REQUESTS: String(BUDGET),
    RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS),
    TRUSTED_PROXY_HOPS: '1',
    TRUSTED_PROXY_CIDRS: '127.0.0.0/8, ::1',
  });
  try {
    await eventually(
      async () => (await fetch(`${service.url}${PRICE_PATH}`)).status,
      (s) => s === 200,
    );
    await fuzz(service, Math.ceil(RUNS / 2), true);
  } finally {
    await service.stop();
  }
}, 120_000);
