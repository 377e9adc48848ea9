import { EXCHANGES, startMockExchange, type MockExchange } from '../src/mock-exchange';
import { mockExchangeClient } from '../src/mock-exchange-client';
import { bookOf, ETH_TICKER_PATHS, get, getJson, http, sendJson } from './helpers/http';
import { until, useMockExchange } from './helpers/lifecycle';

let mock: MockExchange;

const control = (path: string) => `${mock.url}/__control${path}`;

useMockExchange((started) => (mock = started));

describe('health and counters', () => {
  test('When health is asked, then it answers {"ok":true}', async () => {
    const { status, body } = await getJson(control('/health'));

    expect(status).toBe(200);
    expect(body).toEqual({ ok: true });
    expect(await mock.client.health()).toBe(true);
  });

  test('When nothing was asked since reset, then every exchange counts zero', async () => {
    expect(await mock.client.counters()).toEqual({
      binance: 0,
      okx: 0,
      coinbase: 0,
      kraken: 0,
      kucoin: 0,
      bybit: 0,
    });
  });

  test('When tickers are asked, then each exchange counts its own requests, faulted and unknown ones included', async () => {
    await get(mock.baseUrlFor('binance') + ETH_TICKER_PATHS.binance);
    await get(mock.baseUrlFor('binance') + ETH_TICKER_PATHS.binance);
    await get(`${mock.baseUrlFor('binance')}/api/v3/ticker/bookTicker?symbol=NOPE`);
    await mock.client.setFault('okx', { type: 'status', status: 503 });
    await get(mock.baseUrlFor('okx') + ETH_TICKER_PATHS.okx);
    await get(`${mock.baseUrlFor('kraken')}/not/a/route`);

    expect(await mock.client.counters()).toEqual({
      binance: 3,
      okx: 1,
      coinbase: 0,
      kraken: 0,
      kucoin: 0,
      bybit: 0,
    });
  });

  test('When control routes are called, then they are not counted', async () => {
    await mock.client.faults();
    await mock.client.price('ETH/USDT');

    const counters = await mock.client.counters();
    expect(EXCHANGES.every((exchange) => counters[exchange] === 0)).toBe(true);
  });
});

describe('reset', () => {
  test('When reset, then faults and counters are cleared and the price walks again from the start', async () => {
    await mock.client.setFault('*', { type: 'status', status: 500 });
    await mock.client.setPrice('ETH/USDT', '4000.00');
    await get(mock.baseUrlFor('okx') + ETH_TICKER_PATHS.okx);

    await mock.client.reset();

    const counters = await mock.client.counters();
    expect(EXCHANGES.every((exchange) => counters[exchange] === 0)).toBe(true);
    expect(Object.values(await mock.client.faults()).every((fault) => fault === null)).toBe(true);
    const { body } = await getJson(control('/price?pair=ETH/USDT'));
    expect(body.walk).toBe(true);
    expect(Math.abs(Number(body.mid) - 3500)).toBeLessThan(35);
    expect((await get(mock.baseUrlFor('okx') + ETH_TICKER_PATHS.okx)).status).toBe(200);
  });

  test('When reset is not POSTed, then it answers 405', async () => {
    const response = await get(control('/reset'));

    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('POST');
  });
});

describe('price', () => {
  test('When the mid is pinned, then it stays exactly there', async () => {
    const other = await startMockExchange({ tickMs: 1 });
    try {
      await other.client.setPrice('BTC/USDT', '95000.00', false);
      // Ticks have passed for the pinned pair too once the walking one has moved.
      const walking = await other.client.price('ETH/USDT');
      await until(
        () => other.client.price('ETH/USDT'),
        (mid) => mid !== walking,
        'ETH/USDT walking on',
      );

      expect(await other.client.price('BTC/USDT')).toBe('95000.00');
      const { body } = await getJson(other.baseUrlFor('okx') + '/api/v5/market/ticker?instId=BTC-USDT');
      expect(bookOf('okx', body)).toEqual({ bid: '94990.49', ask: '94990.51' });
    } finally {
      await other.close();
    }
  });

  test('When the walk resumes, then the mid moves again, by at most 1 bp a tick', async () => {
    const other = await startMockExchange({ tickMs: 1 });
    try {
      await other.client.setPrice('ETH/USDT', '3500.00', false);
      await other.client.setWalk(true, 'ETH/USDT');

      const seen = new Set<string>();
      await until(
        async () => seen.add(await other.client.price('ETH/USDT')).size,
        (size) => size > 1,
        'the mid moving',
      );

      expect(seen.size).toBeGreaterThan(1);
      // At most 20 steps of 1 bp between two reads, and far less in practice.
      for (const mid of seen) expect(Math.abs(Number(mid) - 3500)).toBeLessThan(3500 * 0.005 * 20);
    } finally {
      await other.close();
    }
  });

  test('When the price is set with walk true, then it starts from that mid and keeps walking', async () => {
    const response = await sendJson(control('/price'), 'PUT', {
      pair: 'eth-usdt',
      mid: '3600.00',
      walk: true,
    });

    expect(response.status).toBe(200);
    expect(JSON.parse(response.text)).toEqual({ pair: 'ETH/USDT', mid: '3600.00', walk: true });
  });

  test('When a sub-cent mid is pinned, then it is reported with its own decimals', async () => {
    await mock.client.setPrice('ETH/USDT', '3500.125');

    expect(await mock.client.price('ETH/USDT')).toBe('3500.125');
  });

  test('When the walk is stopped for every pair, then both pairs report walk false', async () => {
    const response = await sendJson(control('/price'), 'PUT', { walk: false });

    expect(response.status).toBe(200);
    const body = JSON.parse(response.text) as { prices: { pair: string; walk: boolean }[] };
    expect(body.prices.map(({ pair, walk }) => [pair, walk])).toEqual([
      ['ETH/USDT', false],
      ['BTC/USDT', false],
    ]);
  });

  test('When the price is asked without a pair, then every pair is listed', async () => {
    const { body } = await getJson(control('/price'));

    expect((body.prices as { pair: string }[]).map(({ pair }) => pair)).toEqual(['ETH/USDT', 'BTC/USDT']);
  });
});

describe('bad control input', () => {
  const badFaults: [string, unknown][] = [
    ['an unknown type', { type: 'meteor' }],
    ['no type', { ms: 5 }],
    ['an array', [{ type: 'outage' }]],
    ['latency without ms', { type: 'latency' }],
    ['a negative latency', { type: 'latency', ms: -1 }],
    ['a fractional latency', { type: 'latency', ms: 1.5 }],
    ['a 200 status', { type: 'status', status: 200 }],
    ['a status as a string', { type: 'status', status: '503' }],
    ['a rate-limit status of 503', { type: 'rate-limit', status: 503 }],
    ['a negative Retry-After', { type: 'rate-limit', retryAfterSeconds: -2 }],
    ['a numeric spike factor', { type: 'spike', factor: 1.1 }],
    ['a non-decimal spike factor', { type: 'spike', factor: '1e3' }],
    ['a spike factor of zero', { type: 'spike', factor: '0' }],
    ['times of zero', { type: 'outage', times: 0 }],
    ['times as a string', { type: 'outage', times: '2' }],
    ['a misspelt parameter', { type: 'rate-limit', retryAfter: 2 }],
    ['an unknown body-error kind', { type: 'body-error', kind: 'teapot' }],
  ];

  test.each(badFaults)(
    'When a fault with %s is PUT, then it answers 400 and sets nothing',
    async (_label, fault) => {
      const response = await sendJson(control('/faults/okx'), 'PUT', fault);

      expect(response.status).toBe(400);
      expect(JSON.parse(response.text)).toEqual({ error: expect.any(String) });
      expect((await mock.client.faults()).okx).toBeNull();
    },
  );

  test('When a fault body is not JSON, then it answers 400', async () => {
    const response = await sendJson(control('/faults/okx'), 'PUT', '{"type":');

    expect(response.status).toBe(400);
    expect(JSON.parse(response.text)).toEqual({ error: 'body is not valid JSON' });
  });

  test('When a fault body is empty, then it answers 400', async () => {
    const response = await http(control('/faults/okx'), { method: 'PUT' });

    expect(response.status).toBe(400);
  });

  test('When a fault body is too large, then it answers 400 on the same connection', async () => {
    const response = await sendJson(control('/faults/okx'), 'PUT', {
      type: 'outage',
      pad: 'x'.repeat(100_000),
    });

    expect(response.status).toBe(400);
    expect(JSON.parse(response.text).error).toMatch(/larger than/);
  });

  test('When a fault names an unknown exchange, then it answers 400', async () => {
    const response = await sendJson(control('/faults/gate'), 'PUT', { type: 'outage' });

    expect(response.status).toBe(400);
    expect(JSON.parse(response.text).error).toMatch(/unknown exchange "gate"/);
  });

  test('When faults are POSTed, then it answers 405', async () => {
    const response = await sendJson(control('/faults/okx'), 'POST', { type: 'outage' });

    expect(response.status).toBe(405);
  });

  const badPrices: [string, unknown][] = [
    ['a numeric mid', { pair: 'ETH/USDT', mid: 3500 }],
    ['a negative mid', { pair: 'ETH/USDT', mid: '-1' }],
    ['a mid below 10', { pair: 'ETH/USDT', mid: '9.99' }],
    ['a mid with 9 decimals', { pair: 'ETH/USDT', mid: '3500.000000001' }],
    ['a mid without a pair', { mid: '3500.00' }],
    ['an unknown pair', { pair: 'DOGE/EUR', mid: '1.00' }],
    ['walk as a string', { pair: 'ETH/USDT', walk: 'false' }],
    ['neither mid nor walk', { pair: 'ETH/USDT' }],
    ['an unknown field', { pair: 'ETH/USDT', mid: '3500.00', speed: 2 }],
    ['a non-object', 'ETH/USDT'],
  ];

  test.each(badPrices)('When a price with %s is PUT, then it answers 400', async (_label, body) => {
    const response = await sendJson(control('/price'), 'PUT', body);

    expect(response.status).toBe(400);
    expect(JSON.parse(response.text)).toEqual({ error: expect.any(String) });
  });

  test('When the price of an unknown pair is asked, then it answers 400', async () => {
    const response = await get(control('/price?pair=DOGE-EUR'));

    expect(response.status).toBe(400);
  });

  test('When an unknown control route is asked, then it answers 404', async () => {
    const response = await get(control('/nothing'));

    expect(response.status).toBe(404);
  });
});

describe('client', () => {
  test('When the client gets a non-2xx answer, then it throws with the status and body', async () => {
    const client = mockExchangeClient(`${mock.url}/`);

    await expect(client.setPrice('DOGE/EUR', '1.00')).rejects.toThrow(/400.*unknown|400.*pair/);
  });

  test('When the server is gone, then the client rejects', async () => {
    const other = await startMockExchange();
    await other.close();

    await expect(mockExchangeClient(other.url).health()).rejects.toThrow();
  });
});
