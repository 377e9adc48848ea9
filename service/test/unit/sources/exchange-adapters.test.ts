import { ADAPTERS } from '../../../src/infrastructure/sources/exchanges';
import { EXCHANGES, type ExchangeAdapter } from '../../../src/infrastructure/sources/exchange-adapter';
import {
  UpstreamBodyError,
  UpstreamInvalidBodyError,
  UpstreamRateLimitedError,
} from '../../../src/domain/errors';
import type { Ticker } from '../../../src/domain/quote';
import { BTC_USDT, ETH_USDT, fixture, thrown } from './helpers';

/** What differs per exchange in the behaviour every adapter shares. */
interface Case {
  readonly adapter: ExchangeAdapter;
  readonly baseUrl: string;
  readonly ethPath: string;
  readonly btcPath: string;
  /** The ticker of the exchange's ok.json fixture, exactly. */
  readonly good: Ticker;
  /** ok.json with the best bid and ask replaced. */
  readonly withPrices: (bid: unknown, ask: unknown) => unknown;
  /** What error.json throws, and how describeErrorBody prints it. */
  readonly bodyError: {
    readonly exchangeCode: string;
    readonly message: string;
    readonly description: string;
  };
  /** What rate-limited.json throws, for exchanges that signal rate limits in the body. */
  readonly rateLimit?: { readonly retryAfterMs: number; readonly message: string };
}

type Obj = Record<string, unknown>;

const CASES: readonly Case[] = [
  {
    adapter: ADAPTERS.binance,
    baseUrl: 'https://data-api.binance.vision',
    ethPath: '/api/v3/ticker/bookTicker?symbol=ETHUSDT',
    btcPath: '/api/v3/ticker/bookTicker?symbol=BTCUSDT',
    good: { bid: '3521.4', ask: '3521.41' },
    withPrices: (bid, ask) => ({ ...fixture<Obj>('binance', 'ok'), bidPrice: bid, askPrice: ask }),
    bodyError: {
      exchangeCode: '-1121',
      message: 'exchange error -1121: Invalid symbol.',
      description: 'code -1121: Invalid symbol.',
    },
  },
  {
    adapter: ADAPTERS.okx,
    baseUrl: 'https://www.okx.com',
    ethPath: '/api/v5/market/ticker?instId=ETH-USDT',
    btcPath: '/api/v5/market/ticker?instId=BTC-USDT',
    good: { bid: '3521.42', ask: '3521.43', last: '3521.42', timestampMs: 1795833900050 },
    withPrices: (bid, ask) => {
      const body = fixture<{ data: Obj[] }>('okx', 'ok');
      Object.assign(body.data[0]!, { bidPx: bid, askPx: ask });
      return body;
    },
    bodyError: {
      exchangeCode: '51001',
      message: 'exchange error 51001: Instrument ID does not exist',
      description: 'code 51001: Instrument ID does not exist',
    },
    rateLimit: { retryAfterMs: 2000, message: 'okx: code 50011: Too Many Requests' },
  },
  {
    adapter: ADAPTERS.coinbase,
    baseUrl: 'https://api.exchange.coinbase.com',
    ethPath: '/products/ETH-USDT/ticker',
    btcPath: '/products/BTC-USDT/ticker',
    // No timestampMs: Coinbase's `time` is the last trade's, so the receive time is used.
    good: { bid: '3521.45', ask: '3521.46', last: '3521.45' },
    withPrices: (bid, ask) => ({ ...fixture<Obj>('coinbase', 'ok'), bid, ask }),
    bodyError: {
      exchangeCode: 'NotFound',
      message: 'exchange error NotFound: coinbase rejected ETH-USDT',
      description: 'NotFound',
    },
  },
  {
    adapter: ADAPTERS.kraken,
    baseUrl: 'https://api.kraken.com',
    ethPath: '/0/public/Ticker?pair=ETHUSDT',
    btcPath: '/0/public/Ticker?pair=BTCUSDT',
    good: { bid: '3521.45', ask: '3521.46', last: '3521.45' },
    withPrices: (bid, ask) => {
      const body = fixture<{ result: { ETHUSDT: { a: unknown[]; b: unknown[] } } }>('kraken', 'ok');
      body.result.ETHUSDT.b[0] = bid;
      body.result.ETHUSDT.a[0] = ask;
      return body;
    },
    bodyError: {
      exchangeCode: 'EQuery',
      message: 'exchange error EQuery: Unknown asset pair',
      description: 'EQuery:Unknown asset pair',
    },
    rateLimit: { retryAfterMs: 5000, message: 'kraken: EAPI:Rate limit exceeded' },
  },
  {
    adapter: ADAPTERS.kucoin,
    baseUrl: 'https://api.kucoin.com',
    ethPath: '/api/v1/market/orderbook/level1?symbol=ETH-USDT',
    btcPath: '/api/v1/market/orderbook/level1?symbol=BTC-USDT',
    good: { bid: '3521.44', ask: '3521.46', last: '3521.45', timestampMs: 1795833900050 },
    withPrices: (bid, ask) => {
      const body = fixture<{ data: Obj }>('kucoin', 'ok');
      Object.assign(body.data, { bestBid: bid, bestAsk: ask });
      return body;
    },
    bodyError: {
      exchangeCode: '400100',
      message: 'exchange error 400100: Parameter Error',
      description: 'code 400100: Parameter Error',
    },
    rateLimit: { retryAfterMs: 30_000, message: 'kucoin: code 429000: Too Many Requests' },
  },
  {
    adapter: ADAPTERS.bybit,
    baseUrl: 'https://api.bybit.com',
    ethPath: '/v5/market/tickers?category=spot&symbol=ETHUSDT',
    btcPath: '/v5/market/tickers?category=spot&symbol=BTCUSDT',
    good: { bid: '3521.44', ask: '3521.45', last: '3521.45', timestampMs: 1795833900061 },
    withPrices: (bid, ask) => {
      const body = fixture<{ result: { list: Obj[] } }>('bybit', 'ok');
      Object.assign(body.result.list[0]!, { bid1Price: bid, ask1Price: ask });
      return body;
    },
    bodyError: {
      exchangeCode: '10001',
      message: 'exchange error 10001: Not supported symbols',
      description: 'code 10001: Not supported symbols',
    },
    rateLimit: { retryAfterMs: 5000, message: 'bybit: code 10006: Too many visits!' },
  },
];

describe('ADAPTERS', () => {
  test('When listing the adapters, then there is exactly one per configured exchange, under its own name', () => {
    expect(Object.keys(ADAPTERS).sort()).toEqual([...EXCHANGES].sort());
    for (const name of EXCHANGES) expect(ADAPTERS[name].name).toBe(name);
  });
});

describe.each(CASES)('$adapter.name adapter', (c) => {
  const { adapter } = c;
  const parse = (body: unknown): Ticker => adapter.parseTicker(body, ETH_USDT);

  describe('request', () => {
    test('When asked for its base URL, then it is the production host without a trailing slash', () => {
      expect(adapter.defaultBaseUrl).toBe(c.baseUrl);
    });

    test('When building the ETH/USDT ticker path, then it names the exchange symbol', () => {
      expect(adapter.tickerPath(ETH_USDT)).toBe(c.ethPath);
    });

    test('When building the BTC/USDT ticker path, then the symbol follows the pair', () => {
      expect(adapter.tickerPath(BTC_USDT)).toBe(c.btcPath);
    });
  });

  describe('good body', () => {
    test('When the recorded body is parsed, then it yields the exact canonical prices and timestamp', () => {
      expect(parse(fixture(adapter.name, 'ok'))).toStrictEqual(c.good);
    });

    test('When prices exceed float precision, then they survive digit for digit', () => {
      const ticker = parse(c.withPrices('1.0000000000000001', '1.0000000000000002'));
      expect([ticker.bid, ticker.ask]).toEqual(['1.0000000000000001', '1.0000000000000002']);
    });

    test('When prices carry trailing zeros, then they are canonicalised', () => {
      const ticker = parse(c.withPrices('3521.40000000', '3521.41000'));
      expect([ticker.bid, ticker.ask]).toEqual(['3521.4', '3521.41']);
    });

    test('When prices are very large, then no digit and no exponent notation appears', () => {
      const ticker = parse(
        c.withPrices('123456789012345678901234567890.5', '123456789012345678901234567891'),
      );
      expect([ticker.bid, ticker.ask]).toEqual([
        '123456789012345678901234567890.5',
        '123456789012345678901234567891',
      ]);
    });
  });

  describe('impossible prices', () => {
    const INVALID: ReadonlyArray<readonly [string, unknown]> = [
      ['a JSON number', 3521.4],
      ['exponent notation', '3.5214e3'],
      ['an empty string', ''],
      ['a negative price', '-3521.4'],
      ['zero', '0'],
      ['zero with decimals', '0.00000000'],
      ['surrounding spaces', ' 3521.4 '],
      ['a leading plus', '+3521.4'],
      ['hexadecimal', '0xDC1'],
      ['NaN', 'NaN'],
      ['null', null],
      ['a missing value', undefined],
    ];

    test.each(INVALID)('When the bid is %s, then the body is rejected as invalid', (_, bid) => {
      expect(() => parse(c.withPrices(bid, '3521.46'))).toThrow(UpstreamInvalidBodyError);
    });

    test.each(INVALID)('When the ask is %s, then the body is rejected as invalid', (_, ask) => {
      expect(() => parse(c.withPrices('3521.45', ask))).toThrow(UpstreamInvalidBodyError);
    });

    test('When bid equals ask, then the locked book is rejected as invalid', () => {
      const error = thrown(() => parse(c.withPrices('3521.45', '3521.4500')));
      expect(error).toBeInstanceOf(UpstreamInvalidBodyError);
      expect(error.message).toBe(`${adapter.name}: bid 3521.45 is not below ask 3521.4500`);
    });

    test('When bid is above ask, then the crossed book is rejected as invalid', () => {
      expect(() => parse(c.withPrices('3521.47', '3521.46'))).toThrow(UpstreamInvalidBodyError);
    });
  });

  describe('errors', () => {
    test('When the body reports an exchange error with HTTP 200, then an UpstreamBodyError carries its code', () => {
      const error = thrown(() => parse(fixture(adapter.name, 'error')));
      expect(error).toBeInstanceOf(UpstreamBodyError);
      expect(error).toMatchObject({ code: 'UPSTREAM_BODY_ERROR', exchangeCode: c.bodyError.exchangeCode });
      expect(error.message).toBe(c.bodyError.message);
    });

    if (c.rateLimit) {
      const { retryAfterMs, message } = c.rateLimit;
      test(`When the body carries the rate-limit code, then it is UpstreamRateLimitedError for ${retryAfterMs} ms`, () => {
        const error = thrown(() => parse(fixture(adapter.name, 'rate-limited')));
        expect(error).toBeInstanceOf(UpstreamRateLimitedError);
        expect(error).toMatchObject({
          code: 'UPSTREAM_RATE_LIMITED',
          retryAfterMs,
          status: undefined,
          message,
        });
      });
    }

    test('When the body has the wrong shape, then it is rejected as invalid', () => {
      expect(() => parse(fixture(adapter.name, 'wrong-shape'))).toThrow(UpstreamInvalidBodyError);
    });

    test.each([null, undefined, '', '<html>502 Bad Gateway</html>', 42, [], {}])(
      'When the body is %p, then it is rejected as invalid',
      (body) => {
        expect(() => parse(body)).toThrow(UpstreamInvalidBodyError);
      },
    );
  });

  describe('describeErrorBody', () => {
    test("When given the exchange's error body, then it returns a short description", () => {
      expect(adapter.describeErrorBody(fixture(adapter.name, 'error'))).toBe(c.bodyError.description);
    });

    test.each([null, '<html>403 Forbidden</html>', 42, {}])(
      'When given %p, then it returns undefined',
      (body) => {
        expect(adapter.describeErrorBody(body)).toBeUndefined();
      },
    );
  });
});
