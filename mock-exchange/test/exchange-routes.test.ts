import { EXCHANGES, expectedQuote, startMockExchange, type MockExchange } from '../src/mock-exchange';
import {
  BTC_TICKER_PATHS,
  bookOf,
  compareDecimals,
  ETH_TICKER_PATHS,
  get,
  getJson,
  http,
  UNKNOWN_TICKER_PATHS,
} from './helpers/http';
import { until, useMockExchange } from './helpers/lifecycle';

const PRICE_DECIMALS = { binance: 8, okx: 2, coinbase: 2, kraken: 5, kucoin: 2, bybit: 2 } as const;

let mock: MockExchange;

useMockExchange((started) => (mock = started));

describe('ticker routes', () => {
  test.each(EXCHANGES)(
    'When %s is asked for ETH/USDT, then it answers 200 with string prices in its decimals and bid < ask',
    async (exchange) => {
      const { status, body } = await getJson(mock.baseUrlFor(exchange) + ETH_TICKER_PATHS[exchange]);

      expect(status).toBe(200);
      const { bid, ask } = bookOf(exchange, body);
      const decimals = new RegExp(`^\\d+\\.\\d{${PRICE_DECIMALS[exchange]}}$`);
      expect(bid).toMatch(decimals);
      expect(ask).toMatch(decimals);
      expect(compareDecimals(bid, ask)).toBe(-1);
      // Far from any outlier threshold: within 1% of the starting mid.
      expect(Number(bid)).toBeGreaterThan(3465);
      expect(Number(ask)).toBeLessThan(3535);
    },
  );

  test.each(EXCHANGES)('When %s is asked for BTC/USDT, then it answers a BTC book', async (exchange) => {
    const { status, body } = await getJson(mock.baseUrlFor(exchange) + BTC_TICKER_PATHS[exchange]);

    expect(status).toBe(200);
    const { bid, ask } = bookOf(exchange, body);
    expect(compareDecimals(bid, ask)).toBe(-1);
    expect(Number(bid)).toBeGreaterThan(94_000);
    expect(Number(ask)).toBeLessThan(96_000);
  });

  test('When binance is asked, then the body is exactly the bookTicker shape with the weight header', async () => {
    const response = await get(mock.baseUrlFor('binance') + ETH_TICKER_PATHS.binance);
    const body = JSON.parse(response.text) as Record<string, unknown>;

    expect(Object.keys(body)).toEqual(['symbol', 'bidPrice', 'bidQty', 'askPrice', 'askQty']);
    expect(body.symbol).toBe('ETHUSDT');
    expect(body.bidQty).toBe('12.34500000');
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers['x-mbx-used-weight-1m']).toMatch(/^\d+$/);
  });

  test('When binance is asked twice, then the used weight grows by 2 per request', async () => {
    const first = await get(mock.baseUrlFor('binance') + ETH_TICKER_PATHS.binance);
    const second = await get(mock.baseUrlFor('binance') + ETH_TICKER_PATHS.binance);

    const used = (response: typeof first) => Number(response.headers['x-mbx-used-weight-1m']);
    // A minute boundary between the two calls would reset the window.
    expect([used(first) + 2, 2]).toContain(used(second));
  });

  test('When okx is asked, then the envelope is code "0" with one SPOT ticker whose ts is a millisecond string', async () => {
    const before = Date.now();
    const { body } = await getJson(mock.baseUrlFor('okx') + ETH_TICKER_PATHS.okx);
    const after = Date.now();

    expect(body.code).toBe('0');
    expect(body.msg).toBe('');
    const data = body.data as Record<string, unknown>[];
    expect(data).toHaveLength(1);
    const ticker = data[0] as Record<string, unknown>;
    expect(Object.keys(ticker)).toEqual([
      'instType',
      'instId',
      'last',
      'lastSz',
      'askPx',
      'askSz',
      'bidPx',
      'bidSz',
      'open24h',
      'high24h',
      'low24h',
      'volCcy24h',
      'vol24h',
      'ts',
      'sodUtc0',
      'sodUtc8',
    ]);
    expect(ticker).toMatchObject({ instType: 'SPOT', instId: 'ETH-USDT' });
    for (const value of Object.values(ticker)) expect(typeof value).toBe('string');
    expect(Number(ticker.ts)).toBeGreaterThanOrEqual(before);
    expect(Number(ticker.ts)).toBeLessThanOrEqual(after);
  });

  test('When coinbase is asked, then it answers the product ticker with an ISO time in microseconds', async () => {
    const { body } = await getJson(mock.baseUrlFor('coinbase') + ETH_TICKER_PATHS.coinbase);

    expect(Object.keys(body)).toEqual(['ask', 'bid', 'volume', 'trade_id', 'price', 'size', 'time']);
    expect(typeof body.trade_id).toBe('number');
    expect(body.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(Math.abs(Date.parse(body.time as string) - Date.now())).toBeLessThan(5_000);
  });

  test('When coinbase is asked for a lower-case product, then it answers like the real, case-insensitive API', async () => {
    const { status } = await getJson(`${mock.baseUrlFor('coinbase')}/products/eth-usdt/ticker`);

    expect(status).toBe(200);
  });

  test('When coinbase is asked without a User-Agent, then it answers 400 like the real API', async () => {
    const response = await http(mock.baseUrlFor('coinbase') + ETH_TICKER_PATHS.coinbase);

    expect(response.status).toBe(400);
    expect(JSON.parse(response.text)).toEqual({ message: 'User-Agent header is required.' });
  });

  test('When kraken is asked, then every ticker field has the real array shape under the pair key', async () => {
    const { body } = await getJson(mock.baseUrlFor('kraken') + ETH_TICKER_PATHS.kraken);

    expect(body.error).toEqual([]);
    const result = body.result as Record<string, Record<string, unknown>>;
    expect(Object.keys(result)).toEqual(['ETHUSDT']);
    const ticker = result.ETHUSDT as Record<string, unknown[]>;
    expect(Object.keys(ticker)).toEqual(['a', 'b', 'c', 'v', 'p', 't', 'l', 'h', 'o']);
    expect(ticker.a).toHaveLength(3);
    expect(ticker.b).toHaveLength(3);
    expect(ticker.c).toHaveLength(2);
    expect(ticker.t?.every((count) => typeof count === 'number')).toBe(true);
    expect(typeof ticker.o).toBe('string');
  });

  test('When kraken is asked for BTCUSDT, then the result key is its own name XBTUSDT', async () => {
    const { body } = await getJson(mock.baseUrlFor('kraken') + BTC_TICKER_PATHS.kraken);

    expect(Object.keys(body.result as object)).toEqual(['XBTUSDT']);
  });

  test('When kucoin is asked, then data.time is a millisecond number and the rest are strings', async () => {
    const { body } = await getJson(mock.baseUrlFor('kucoin') + ETH_TICKER_PATHS.kucoin);

    expect(body.code).toBe('200000');
    const data = body.data as Record<string, unknown>;
    expect(Object.keys(data)).toEqual([
      'time',
      'sequence',
      'price',
      'size',
      'bestBid',
      'bestBidSize',
      'bestAsk',
      'bestAskSize',
    ]);
    expect(typeof data.time).toBe('number');
    expect(Math.abs((data.time as number) - Date.now())).toBeLessThan(5_000);
    expect(typeof data.sequence).toBe('string');
  });

  test('When bybit is asked, then the envelope carries retCode 0, the spot list and a millisecond time', async () => {
    const { body } = await getJson(mock.baseUrlFor('bybit') + ETH_TICKER_PATHS.bybit);

    expect(body).toMatchObject({ retCode: 0, retMsg: 'OK', retExtInfo: {} });
    expect(typeof body.time).toBe('number');
    const result = body.result as { category: string; list: Record<string, unknown>[] };
    expect(result.category).toBe('spot');
    expect(result.list).toHaveLength(1);
    expect(result.list[0]).toMatchObject({ symbol: 'ETHUSDT' });
    expect(typeof result.list[0]?.lastPrice).toBe('string');
  });

  test.each(EXCHANGES)(
    'When the ETH mid is pinned, then %s serves exactly the quote expectedQuote computes',
    async (exchange) => {
      await mock.client.setPrice('ETH/USDT', '3500.00', false);

      const { body } = await getJson(mock.baseUrlFor(exchange) + ETH_TICKER_PATHS[exchange]);

      const expected = expectedQuote(exchange, '3500.00');
      expect(bookOf(exchange, body)).toEqual({ bid: expected.bid, ask: expected.ask });
    },
  );

  test('When the ETH mid is pinned at 3500.00, then the median of the six exchange mids is 3500.00', async () => {
    await mock.client.setPrice('ETH/USDT', '3500.00');

    const mids = await Promise.all(
      EXCHANGES.map(async (exchange) => {
        const { body } = await getJson(mock.baseUrlFor(exchange) + ETH_TICKER_PATHS[exchange]);
        const { bid, ask } = bookOf(exchange, body);
        // In cents: every price is a whole number of cents whatever the printed decimals.
        return (Math.round(Number(bid) * 100) + Math.round(Number(ask) * 100)) / 2;
      }),
    );

    const sorted = [...mids].sort((a, b) => a - b);
    expect(((sorted[2] ?? 0) + (sorted[3] ?? 0)) / 2).toBe(350_000);
    expect(new Set(mids).size).toBe(6);
  });
});

describe('unknown symbols and routes', () => {
  test('When binance is asked for an unknown symbol, then it answers 400 code -1121', async () => {
    const { status, body } = await getJson(mock.baseUrlFor('binance') + UNKNOWN_TICKER_PATHS.binance);

    expect(status).toBe(400);
    expect(body).toEqual({ code: -1121, msg: 'Invalid symbol.' });
  });

  test('When okx is asked for an unknown instId, then it answers HTTP 200 with code 51001', async () => {
    const { status, body } = await getJson(mock.baseUrlFor('okx') + UNKNOWN_TICKER_PATHS.okx);

    expect(status).toBe(200);
    expect(body).toEqual({ code: '51001', msg: 'Instrument ID does not exist', data: [] });
  });

  test('When coinbase is asked for an unknown product, then it answers 404 NotFound', async () => {
    const { status, body } = await getJson(mock.baseUrlFor('coinbase') + UNKNOWN_TICKER_PATHS.coinbase);

    expect(status).toBe(404);
    expect(body).toEqual({ message: 'NotFound' });
  });

  test('When kraken is asked for an unknown pair, then it answers HTTP 200 with EQuery:Unknown asset pair', async () => {
    const { status, body } = await getJson(mock.baseUrlFor('kraken') + UNKNOWN_TICKER_PATHS.kraken);

    expect(status).toBe(200);
    expect(body).toEqual({ error: ['EQuery:Unknown asset pair'] });
  });

  test('When kucoin is asked for an unknown symbol, then it answers HTTP 200 with a non-200000 code', async () => {
    const { status, body } = await getJson(mock.baseUrlFor('kucoin') + UNKNOWN_TICKER_PATHS.kucoin);

    expect(status).toBe(200);
    expect(body).toEqual({ code: '400100', msg: 'Unsupported trading pair.' });
  });

  test('When bybit is asked for an unknown symbol, then it answers HTTP 200 with retCode 10001', async () => {
    const { status, body } = await getJson(mock.baseUrlFor('bybit') + UNKNOWN_TICKER_PATHS.bybit);

    expect(status).toBe(200);
    expect(body).toMatchObject({
      retCode: 10001,
      retMsg: 'Not supported symbols',
      result: {},
      retExtInfo: {},
    });
    expect(typeof body.time).toBe('number');
  });

  test('When bybit is asked for another category, then it answers the unknown-symbol error', async () => {
    const { body } = await getJson(
      `${mock.baseUrlFor('bybit')}/v5/market/tickers?category=linear&symbol=ETHUSDT`,
    );

    expect(body.retCode).toBe(10001);
  });

  test.each([
    ['binance', '/api/v3/ticker/bookTicker'],
    ['okx', '/api/v5/market/ticker'],
    ['kraken', '/0/public/Ticker'],
    ['kucoin', '/api/v1/market/orderbook/level1'],
  ] as const)(
    'When %s is asked without a symbol, then it answers its unknown-symbol error',
    async (exchange, path) => {
      const missing = await getJson(mock.baseUrlFor(exchange) + path);
      const unknown = await getJson(mock.baseUrlFor(exchange) + UNKNOWN_TICKER_PATHS[exchange]);

      expect(missing).toEqual(unknown);
    },
  );

  test('When a symbol names an Object.prototype property, then it is still unknown', async () => {
    const { body } = await getJson(`${mock.baseUrlFor('kraken')}/0/public/Ticker?pair=constructor`);

    expect(body).toEqual({ error: ['EQuery:Unknown asset pair'] });
  });

  test.each([
    '/nowhere',
    '/binance/api/v3/ticker/price?symbol=ETHUSDT',
    '/gate/api/v4/spot/tickers',
    '/',
    '//binance',
  ])('When %s is requested, then it answers 404', async (path) => {
    const response = await get(mock.url + path);

    expect(response.status).toBe(404);
    expect(JSON.parse(response.text)).toEqual({ message: 'Not Found' });
  });

  test('When a ticker route is POSTed, then it answers 405 and is not counted', async () => {
    const response = await http(mock.baseUrlFor('okx') + ETH_TICKER_PATHS.okx, {
      method: 'POST',
      headers: { 'user-agent': 'tests' },
    });

    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('GET');
    expect((await mock.client.counters()).okx).toBe(0);
  });
});

describe('server lifecycle', () => {
  test('When started with defaults, then it listens on 127.0.0.1 on a free port and builds base URLs', async () => {
    const other = await startMockExchange();
    try {
      expect(other.url).toBe(`http://127.0.0.1:${other.port}`);
      expect(other.port).toBeGreaterThan(0);
      expect(other.port).not.toBe(mock.port);
      expect(other.baseUrlFor('kraken')).toBe(`${other.url}/kraken`);
    } finally {
      await other.close();
    }
  });

  test('When closed with a keep-alive connection open, then close resolves promptly', async () => {
    const other = await startMockExchange();
    // fetch keeps the connection alive in its pool.
    await fetch(other.baseUrlFor('okx') + ETH_TICKER_PATHS.okx).then((response) => response.text());

    const started = Date.now();
    await other.close();

    expect(Date.now() - started).toBeLessThan(1_000);
  });

  test('When a request is waiting on injected latency, then close still resolves promptly', async () => {
    const other = await startMockExchange();
    await other.client.setFault('okx', { type: 'latency', ms: 60_000 });
    const outcome = expect(get(other.baseUrlFor('okx') + ETH_TICKER_PATHS.okx)).rejects.toThrow();
    // Counted on arrival, before the latency: from then on the request is waiting.
    await until(
      () => other.client.counters(),
      (counters) => counters.okx === 1,
      'the request at okx',
    );

    const started = Date.now();
    await other.close();

    expect(Date.now() - started).toBeLessThan(1_000);
    await outcome;
  });

  test('When the port is taken, then startMockExchange rejects', async () => {
    await expect(startMockExchange({ port: mock.port })).rejects.toThrow(/EADDRINUSE/);
  });
});
