import Big from 'big.js';
import {
  EXCHANGES,
  expectedQuote,
  mockExchangeClient,
  startMockExchange,
  type MockExchange,
  type MockExchangeClient,
} from '../../../mock-exchange/src/mock-exchange';
import { eventually, sample } from '../helpers/metrics';
import { startService, type TestService } from '../helpers/service';

// The service in-process (L1 only, no Redis) against the mock exchange over real sockets.
let mock: MockExchange;
let control: MockExchangeClient;
let service: TestService;

const PRICE_PATH = '/api/v1/prices/eth-usdt';
const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${service.url}${path}`, { headers });
const priceBody = async () =>
  (await get(PRICE_PATH)).json() as Promise<Record<string, unknown> & { sources: Record<string, unknown>[] }>;
const sourceState = async (exchange: string) =>
  (await priceBody()).sources.find((s) => s.exchange === exchange);
/** Waits until `count` more fetches of `source` ended with `outcome` (upstream_requests_total). */
async function moreFetches(source: string, outcome: string, count: number): Promise<void> {
  const fetches = async () =>
    sample(await service.metricsText(), 'upstream_requests_total', { source, outcome }) ?? 0;
  const before = await fetches();
  await eventually(fetches, (n) => n >= before + count, { what: `${count} more ${outcome} for ${source}` });
}

beforeAll(async () => {
  mock = await startMockExchange();
  control = mockExchangeClient(mock.url);
  await control.setPrice('ETH/USDT', '3500.00', false);
  service = await startService({ MOCK_EXCHANGE_URL: mock.url });
});

afterAll(async () => {
  await service?.stop();
  await mock?.close();
});

afterEach(async () => {
  await control.clearFault('*');
  await control.setPrice('ETH/USDT', '3500.00', false);
  // Let every source recover before the next test (breakers closed, quorum full).
  await eventually(priceBody, (b) => b.status === 'ok', { what: 'status ok after the faults were cleared' });
});

describe('GET /api/v1/prices/eth-usdt', () => {
  test('When every source answers, then the price is the exact decimal median of their mids', async () => {
    const body = await eventually(priceBody, (b) => b.status === 'ok');
    const mids = EXCHANGES.map((e) => new Big(expectedQuote(e, '3500.00').mid)).sort((a, b) => a.cmp(b));
    const expected = (mids[2] as Big)
      .plus(mids[3] as Big)
      .div(2)
      .toFixed();
    expect(body.pair).toBe('ETH/USDT');
    expect(body.price).toBe(expected);
    expect(typeof body.bid).toBe('string');
    expect(new Big(body.bid as string).lt(new Big(body.ask as string))).toBe(true);
    expect(body.quorum).toEqual({ used: 6, configured: 6, min: 3 });
    expect(body.stale).toBe(false);
    expect(body.sources.map((s) => s.exchange)).toEqual([...EXCHANGES]);
    expect(body.sources.every((s) => s.state === 'used')).toBe(true);
    const binance = body.sources.find((s) => s.exchange === 'binance');
    expect(binance?.timestampSource).toBe('receive'); // Binance sends no timestamp: we say so
    expect(body.sources.find((s) => s.exchange === 'okx')?.timestampSource).toBe('exchange');
  });

  test('When the client sends the current ETag back, then it gets 304 without a body', async () => {
    const first = await get(PRICE_PATH);
    const etag = first.headers.get('etag') as string;
    expect(etag).toMatch(/^W\/".+"$/);
    // CACHE_TTL=1: less than a whole second is left once the render slack is taken, so no cache keeps it.
    expect(first.headers.get('cache-control')).toBe('public, max-age=0, s-maxage=0, must-revalidate');
    expect(first.headers.get('age')).toBeNull();
    const second = await get(PRICE_PATH, { 'If-None-Match': etag });
    // The refresher may publish a new snapshot in between; then the tag changed and 200 is right.
    if (second.status === 200) expect(second.headers.get('etag')).not.toBe(etag);
    else {
      expect(second.status).toBe(304);
      expect(await second.text()).toBe('');
    }
    const stale = await get(PRICE_PATH, { 'If-None-Match': 'W/"something-else"' });
    expect(stale.status).toBe(200);
  });

  test('When one source is down, then the price is served as degraded and that source shows its error', async () => {
    await control.setFault('okx', { type: 'status', status: 503 });
    const body = await eventually(priceBody, (b) => b.status === 'degraded', { what: 'degraded' });
    expect(body.quorum).toEqual({ used: 5, configured: 6, min: 3 });
    const okx = body.sources.find((s) => s.exchange === 'okx');
    expect(okx?.state).toMatch(/^(error|circuit_open)$/);
  });

  test('When a source spikes 10%, then it is rejected as an outlier and the median ignores it', async () => {
    await control.setFault('bybit', { type: 'spike', factor: '1.10' });
    const body = await eventually(priceBody, (b) => b.status === 'degraded', { what: 'outlier rejected' });
    const bybit = body.sources.find((s) => s.exchange === 'bybit');
    expect(bybit?.state).toBe('rejected_outlier');
    expect(Number(bybit?.deviationBps)).toBeGreaterThan(900);
    const mids = EXCHANGES.filter((e) => e !== 'bybit')
      .map((e) => new Big(expectedQuote(e, '3500.00').mid))
      .sort((a, b) => a.cmp(b));
    expect(body.price).toBe((mids[2] as Big).toFixed());
  });

  test('When a source answers garbage or an error inside HTTP 200, then it is rejected and counted, never cached', async () => {
    const before = await service.metricsText();
    await control.setFault('kraken', { type: 'garbage' });
    await control.setFault('okx', { type: 'body-error' });
    await eventually(sourceState.bind(null, 'kraken'), (s) => s?.error === 'UPSTREAM_INVALID_BODY', {
      what: 'kraken invalid',
    });
    const okx = await eventually(sourceState.bind(null, 'okx'), (s) => s?.state !== 'used', {
      what: 'okx body error',
    });
    expect(okx?.error).toMatch(/^UPSTREAM_(BODY_ERROR|RATE_LIMITED)$/);
    const after = await service.metricsText();
    const invalid = (t: string) =>
      sample(t, 'upstream_requests_total', { source: 'kraken', outcome: 'invalid_body' }) ?? 0;
    expect(invalid(after)).toBeGreaterThan(invalid(before));
  });

  test('When every source fails, then the last price is served as stale, then 503 with Retry-After past the maximum staleness', async () => {
    let good = await priceBody();
    await control.setFault('*', { type: 'status', status: 500 });
    // A round already under way when the fault was set may still publish a new price (a busy machine): the
    // price served as stale is the last one served fresh, whichever that was.
    const stale = await eventually(
      async () => {
        const body = await priceBody();
        if (body.status !== 'stale') good = body;
        return body;
      },
      (b) => b.status === 'stale',
      { what: 'stale' },
    );
    expect(stale.stale).toBe(true);
    expect(stale.price).toBe(good.price);
    const staleResponse = await get(PRICE_PATH);
    expect(staleResponse.headers.get('cache-control')).toBe('no-cache');
    await staleResponse.arrayBuffer();
    const unavailable = await eventually(
      () => get(PRICE_PATH),
      (r) => r.status === 503,
      { what: '503', timeoutMs: 8000 },
    );
    expect(unavailable.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(unavailable.headers.get('retry-after')).toBe('1');
    const problem = (await unavailable.json()) as Record<string, unknown>;
    expect(problem).toMatchObject({ status: 503, code: 'PRICE_UNAVAILABLE', title: 'Price unavailable' });
    expect(JSON.stringify(problem)).not.toMatch(/at .*\.(ts|js):\d+/); // no stack trace
    const readiness = await get('/health/readiness');
    expect(readiness.status).toBe(503);
    expect(((await readiness.json()) as { status: string }).status).toBe('not_ready');
  }, 20_000);

  test('When a source keeps failing, then its breaker opens, no request reaches it while open, then it recovers', async () => {
    await control.setFault('coinbase', { type: 'status', status: 503 });
    await eventually(
      service.metricsText,
      (t) => sample(t, 'upstream_circuit_state', { source: 'coinbase' }) === 2,
      {
        what: 'coinbase breaker open',
      },
    );
    const whileOpen = (await control.counters()).coinbase;
    // Two more rounds asked for coinbase and were refused by the breaker (BREAKER_RESET_MS is 1500 in tests,
    // the rounds come every 200 ms: it is still open), and none of them reached the exchange.
    await moreFetches('coinbase', 'circuit_open', 2);
    expect((await control.counters()).coinbase).toBe(whileOpen);
    expect((await sourceState('coinbase'))?.state).toBe('circuit_open');
    await control.clearFault('coinbase');
    await eventually(
      service.metricsText,
      (t) => sample(t, 'upstream_circuit_state', { source: 'coinbase' }) === 0,
      {
        what: 'coinbase breaker closed again',
      },
    );
    await eventually(sourceState.bind(null, 'coinbase'), (s) => s?.state === 'used', {
      what: 'coinbase used again',
    });
    expect((await control.counters()).coinbase).toBeGreaterThan(whileOpen);
  }, 20_000);

  test('When a source answers 429 with Retry-After, then nothing is sent to it until that time has passed', async () => {
    await control.setFault('kucoin', { type: 'rate-limit', status: 429, retryAfterSeconds: 2, times: 1 });
    const limited = await eventually(sourceState.bind(null, 'kucoin'), (s) => s?.state === 'rate_limited', {
      what: 'kucoin rate limited',
    });
    expect(limited?.error).toBe('UPSTREAM_RATE_LIMITED');
    const atLimit = (await control.counters()).kucoin;
    // Two more rounds asked for kucoin within the 2 s and were held back: nothing reached the exchange.
    await moreFetches('kucoin', 'cooling_down', 2);
    expect((await control.counters()).kucoin).toBe(atLimit);
    await eventually(sourceState.bind(null, 'kucoin'), (s) => s?.state === 'used', {
      what: 'kucoin used again',
      timeoutMs: 5000,
    });
  }, 15_000);
});

describe('errors and the rest of the API', () => {
  test('When the pair is not configured, then 404 problem+json with a stable code', async () => {
    const response = await get('/api/v1/prices/btc-usdt');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(await response.json()).toEqual({
      type: 'urn:problem-type:eth-usdt-price-service:pair-not-supported',
      title: 'Pair not supported',
      status: 404,
      detail: '"btc-usdt" is not a configured pair. Supported: eth-usdt.',
      instance: '/api/v1/prices/btc-usdt',
      code: 'PAIR_NOT_SUPPORTED',
    });
  });

  test('When the path is unknown, then 404 problem+json', async () => {
    const response = await get('/nothing/here');
    expect(response.status).toBe(404);
    expect(((await response.json()) as { code: string }).code).toBe('ROUTE_NOT_FOUND');
  });

  test('When the method is wrong, then 405 with Allow', async () => {
    const response = await fetch(`${service.url}${PRICE_PATH}`, { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    expect(((await response.json()) as { code: string }).code).toBe('METHOD_NOT_ALLOWED');
  });

  test('When the price URL has a query string or upper case, then Express serves the same price', async () => {
    const response = await get('/api/v1/prices/ETH-USDT?x=1');
    expect(response.status).toBe(200);
    expect(((await response.json()) as { pair: string }).pair).toBe('ETH/USDT');
  });

  test('When /api/ is asked, then it links to the OpenAPI document, which is served', async () => {
    const index = (await (await get('/api/')).json()) as {
      links: { openapi: string; prices: { href: string }[] };
    };
    expect(index.links.prices).toEqual([{ pair: 'ETH/USDT', href: PRICE_PATH }]);
    const openapi = (await (await get(index.links.openapi)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(openapi.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.paths)).toContain('/api/v1/prices/{pair}');
  });

  test('When liveness and readiness are asked on a healthy service, then both answer 200', async () => {
    const live = await get('/health/liveness');
    expect(live.status).toBe(200);
    expect(((await live.json()) as { status: string }).status).toBe('alive');
    const ready = await get('/health/readiness');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', redis: 'disabled' });
  });

  test('When requests are served, then /metrics counts them by route template, method and status', async () => {
    await get(PRICE_PATH);
    await get('/nothing/here');
    const text = await service.metricsText();
    expect(
      sample(text, 'http_request_duration_seconds_count', {
        route: '/api/v1/prices/:pair',
        method: 'GET',
        status_code: '200',
      }),
    ).toBeGreaterThan(0);
    expect(
      sample(text, 'http_request_duration_seconds_count', { route: 'unmatched', status_code: '404' }),
    ).toBeGreaterThan(0);
    expect(text).toMatch(/http_request_duration_seconds_bucket\{[^}]*le="0.05"/);
    expect(text).toMatch(/http_request_duration_seconds_bucket\{[^}]*le="0.1"/);
    expect(sample(text, 'price_cache_lookups_total', { tier: 'l1', result: 'hit' })).toBeGreaterThan(0);
    expect(sample(text, 'price_age_seconds', { pair: 'eth-usdt' })).toBeGreaterThanOrEqual(0);
    // No REDIS_URL here: the Redis gauge is absent rather than a 0 that would page someone.
    expect(sample(text, 'redis_connection_up')).toBeUndefined();
  });
});
