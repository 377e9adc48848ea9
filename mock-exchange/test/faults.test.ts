import { EXCHANGES, expectedQuote, type MockExchange } from '../src/mock-exchange';
import { bookOf, ETH_TICKER_PATHS, get, getJson, sendJson } from './helpers/http';
import { useMockExchange } from './helpers/lifecycle';

let mock: MockExchange;

const tickerUrl = (exchange: (typeof EXCHANGES)[number]) =>
  mock.baseUrlFor(exchange) + ETH_TICKER_PATHS[exchange];

useMockExchange((started) => (mock = started));

describe('latency', () => {
  test('When latency is injected, then the answer is normal but arrives after the delay', async () => {
    await mock.client.setFault('okx', { type: 'latency', ms: 250 });

    const started = Date.now();
    const { status, body } = await getJson(tickerUrl('okx'));

    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    expect(status).toBe(200);
    expect(body.code).toBe('0');
  });

  test('When latency is injected on one exchange, then the others answer at once', async () => {
    await mock.client.setFault('okx', { type: 'latency', ms: 2_000 });

    const started = Date.now();
    await get(tickerUrl('bybit'));

    expect(Date.now() - started).toBeLessThan(500);
  });
});

describe('status', () => {
  test.each(EXCHANGES)(
    'When a 503 is injected on %s, then it answers 503 with a small JSON body',
    async (exchange) => {
      await mock.client.setFault(exchange, { type: 'status', status: 503 });

      const response = await get(tickerUrl(exchange));

      expect(response.status).toBe(503);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(response.text)).toEqual({ message: 'Service Unavailable' });
    },
  );
});

describe('rate-limit', () => {
  const expected429Bodies = {
    binance: {
      code: -1003,
      msg: 'Too many requests; current limit of IP(127.0.0.1) is 6000 requests per minute. Please use the websocket for live updates to avoid polling the API.',
    },
    okx: { msg: 'Too Many Requests', code: '50011' },
    coinbase: { message: 'Public rate limit exceeded' },
    kraken: { error: ['EAPI:Rate limit exceeded'] },
    kucoin: { code: '429000', msg: 'Too Many Requests' },
    bybit: { retCode: 10006, retMsg: 'Too many visits!', result: {}, retExtInfo: {} },
  } as const;

  test.each(EXCHANGES)(
    'When a 429 is injected on %s, then it answers 429 with Retry-After and its own rate-limit body',
    async (exchange) => {
      await mock.client.setFault(exchange, { type: 'rate-limit', status: 429, retryAfterSeconds: 2 });

      const response = await get(tickerUrl(exchange));

      expect(response.status).toBe(429);
      expect(response.headers['retry-after']).toBe('2');
      expect(JSON.parse(response.text)).toMatchObject(expected429Bodies[exchange]);
    },
  );

  test('When a rate-limit fault gives no status, then it is a 429', async () => {
    await mock.client.setFault('okx', { type: 'rate-limit' });

    const response = await get(tickerUrl('okx'));

    expect(response.status).toBe(429);
  });

  test('When a rate-limit fault gives no retryAfterSeconds, then no Retry-After header is sent', async () => {
    await mock.client.setFault('coinbase', { type: 'rate-limit', status: 429 });

    const response = await get(tickerUrl('coinbase'));

    expect(response.headers['retry-after']).toBeUndefined();
  });

  test('When a 418 is injected on binance, then it answers the IP-ban body with the ban end', async () => {
    await mock.client.setFault('binance', { type: 'rate-limit', status: 418, retryAfterSeconds: 120 });

    const response = await get(tickerUrl('binance'));

    expect(response.status).toBe(418);
    expect(response.headers['retry-after']).toBe('120');
    const body = JSON.parse(response.text) as { code: number; msg: string };
    expect(body.code).toBe(-1003);
    expect(body.msg).toMatch(/^Way too many requests; IP\(127\.0\.0\.1\) banned until \d{13}\./);
  });

  test('When a 451 is injected on binance, then it answers the restricted-location body', async () => {
    await mock.client.setFault('binance', { type: 'rate-limit', status: 451 });

    const response = await get(tickerUrl('binance'));

    expect(response.status).toBe(451);
    expect(JSON.parse(response.text)).toMatchObject({
      code: 0,
      msg: expect.stringMatching(/restricted location/),
    });
  });

  test('When a 418 is injected on an exchange without a ban body, then a generic JSON body is sent', async () => {
    await mock.client.setFault('kraken', { type: 'rate-limit', status: 418 });

    const response = await get(tickerUrl('kraken'));

    expect(response.status).toBe(418);
    expect(JSON.parse(response.text)).toEqual({ message: "I'm a Teapot" });
  });
});

describe('garbage', () => {
  test.each(EXCHANGES)(
    'When garbage is injected on %s, then it answers 200 labelled JSON with a body that does not parse',
    async (exchange) => {
      await mock.client.setFault(exchange, { type: 'garbage' });

      const response = await get(tickerUrl(exchange));

      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.text.length).toBeGreaterThan(0);
      expect(() => JSON.parse(response.text)).toThrow(SyntaxError);
    },
  );
});

describe('body-error', () => {
  const expectedErrors = {
    binance: [400, { code: -1000, msg: 'An unknown error occurred while processing the request.' }],
    okx: [200, { code: '50001', msg: 'Service temporarily unavailable. Please try again later.', data: [] }],
    coinbase: [400, { message: 'Bad Request' }],
    kraken: [200, { error: ['EGeneral:Internal error'] }],
    kucoin: [200, { code: '500000', msg: 'Internal Server Error' }],
    bybit: [200, { retCode: 10016, retMsg: 'Server error.', result: {}, retExtInfo: {} }],
  } as const;

  test.each(EXCHANGES)(
    'When a body error is injected on %s, then it answers its own error body',
    async (exchange) => {
      await mock.client.setFault(exchange, { type: 'body-error' });

      const { status, body } = await getJson(tickerUrl(exchange));

      const [expectedStatus, expectedBody] = expectedErrors[exchange];
      expect(status).toBe(expectedStatus);
      expect(body).toMatchObject(expectedBody);
    },
  );

  const expectedRateLimits = {
    binance: [429, { code: -1003 }],
    okx: [200, { code: '50011', msg: 'Too Many Requests', data: [] }],
    coinbase: [429, { message: 'Public rate limit exceeded' }],
    kraken: [200, { error: ['EAPI:Rate limit exceeded'] }],
    kucoin: [200, { code: '429000', msg: 'Too Many Requests' }],
    bybit: [200, { retCode: 10006, retMsg: 'Too many visits!' }],
  } as const;

  test.each(EXCHANGES)(
    'When a body-level rate limit is injected on %s, then it answers its rate-limit error the way it reports it',
    async (exchange) => {
      await mock.client.setFault(exchange, { type: 'body-error', kind: 'rate-limit' });

      const { status, body } = await getJson(tickerUrl(exchange));

      const [expectedStatus, expectedBody] = expectedRateLimits[exchange];
      expect(status).toBe(expectedStatus);
      expect(body).toMatchObject(expectedBody);
    },
  );
});

describe('outage', () => {
  test('When an outage is injected, then the connection is reset without an answer', async () => {
    await mock.client.setFault('kraken', { type: 'outage' });

    await expect(get(tickerUrl('kraken'))).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  test('When an outage is injected, then the request is still counted and the server keeps serving', async () => {
    await mock.client.setFault('kraken', { type: 'outage', times: 1 });

    await get(tickerUrl('kraken')).catch(() => undefined);
    const after = await get(tickerUrl('kraken'));

    expect(after.status).toBe(200);
    expect((await mock.client.counters()).kraken).toBe(2);
  });
});

describe('spike', () => {
  test.each(EXCHANGES)(
    'When a spike of 1.10 is injected on %s, then its prices are 10%% higher',
    async (exchange) => {
      await mock.client.setPrice('ETH/USDT', '3500.00');
      await mock.client.setFault(exchange, { type: 'spike', factor: '1.10' });

      const { body } = await getJson(tickerUrl(exchange));

      const expected = expectedQuote(exchange, '3500.00', '1.10');
      expect(bookOf(exchange, body)).toEqual({ bid: expected.bid, ask: expected.ask });
      expect(Number(expected.bid)).toBeGreaterThan(3800);
    },
  );

  test('When a spike is injected on one exchange, then the others keep the reference price', async () => {
    await mock.client.setPrice('ETH/USDT', '3500.00');
    await mock.client.setFault('okx', { type: 'spike', factor: '0.90' });

    const { body } = await getJson(tickerUrl('bybit'));

    expect(bookOf('bybit', body).bid).toBe(expectedQuote('bybit', '3500.00').bid);
  });
});

describe('schema', () => {
  test.each(EXCHANGES)(
    'When a schema fault is injected on %s, then it answers 200 valid JSON without a string bid',
    async (exchange) => {
      await mock.client.setFault(exchange, { type: 'schema' });

      const { status, body } = await getJson(tickerUrl(exchange));

      expect(status).toBe(200);
      expect(() => bookOf(exchange, body)).toThrow(/no string bid\/ask/);
    },
  );

  test('When a schema fault is injected on binance, then bidPrice is missing and askPrice is a number', async () => {
    await mock.client.setFault('binance', { type: 'schema' });

    const { body } = await getJson(tickerUrl('binance'));

    expect(body).not.toHaveProperty('bidPrice');
    expect(typeof body.askPrice).toBe('number');
    expect(body.symbol).toBe('ETHUSDT');
  });
});

describe('times, wildcard and clearing', () => {
  test('When a fault is limited to 2 times, then it applies to the next two requests and then clears itself', async () => {
    await mock.client.setFault('okx', { type: 'status', status: 500, times: 2 });

    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await get(tickerUrl('okx'))).status);

    expect(statuses).toEqual([500, 500, 200]);
    expect((await mock.client.faults()).okx).toBeNull();
  });

  test('When a limited fault is listed, then times shows the requests left', async () => {
    await mock.client.setFault('bybit', { type: 'garbage', times: 3 });
    await get(tickerUrl('bybit'));

    expect((await mock.client.faults()).bybit).toEqual({ type: 'garbage', times: 2 });
  });

  test('When a fault is set on *, then every exchange gets it with its own count', async () => {
    await mock.client.setFault('*', { type: 'status', status: 502, times: 1 });

    for (const exchange of EXCHANGES) expect((await get(tickerUrl(exchange))).status).toBe(502);
    for (const exchange of EXCHANGES) expect((await get(tickerUrl(exchange))).status).toBe(200);
  });

  test('When a fault is set again, then it replaces the previous one', async () => {
    await mock.client.setFault('okx', { type: 'status', status: 500 });
    await mock.client.setFault('okx', { type: 'status', status: 504 });

    expect((await get(tickerUrl('okx'))).status).toBe(504);
  });

  test('When a fault is cleared, then the exchange answers normally again', async () => {
    await mock.client.setFault('okx', { type: 'status', status: 500 });
    await mock.client.clearFault('okx');

    expect((await get(tickerUrl('okx'))).status).toBe(200);
  });

  test('When * is cleared, then no exchange has a fault', async () => {
    await mock.client.setFault('*', { type: 'outage' });
    await mock.client.clearFault('*');

    const faults = await mock.client.faults();
    expect(Object.values(faults).every((fault) => fault === null)).toBe(true);
    expect((await get(tickerUrl('kucoin'))).status).toBe(200);
  });

  test('When faults are listed, then every exchange appears with its fault or null', async () => {
    await mock.client.setFault('kucoin', { type: 'spike', factor: '1.10' });

    expect(await mock.client.faults()).toEqual({
      binance: null,
      okx: null,
      coinbase: null,
      kraken: null,
      kucoin: { type: 'spike', factor: '1.10' },
      bybit: null,
    });
  });

  test('When a fault is set over raw HTTP, then the answer lists every fault', async () => {
    const response = await sendJson(`${mock.url}/__control/faults/okx`, 'PUT', { type: 'latency', ms: 10 });

    expect(response.status).toBe(200);
    expect(JSON.parse(response.text)).toMatchObject({ okx: { type: 'latency', ms: 10 }, binance: null });
  });
});
