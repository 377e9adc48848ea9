import { STATUS_CODES } from 'node:http';
import { divRound, formatFixed, ONE } from './decimal';
import { QUOTE_PROFILES, type ExchangeName, type PairSymbol, type ScaledQuote } from './quotes';

export interface Reply {
  readonly status: number;
  /** Sent as is: faults need bodies that are not valid JSON. */
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export function jsonReply(status: number, value: unknown, headers?: Record<string, string>): Reply {
  return { status, body: JSON.stringify(value), ...(headers ? { headers } : {}) };
}

/** Everything a ticker body needs besides the prices. */
export interface TickerContext {
  readonly pair: PairSymbol;
  readonly quote: ScaledQuote;
  readonly nowMs: number;
  /** Increases on every ticker answered by the mock: trade ids and book sequence numbers. */
  readonly sequence: number;
}

type JsonObject = Record<string, unknown>;

/**
 * One exchange's wire format: its ticker route, the symbols it lists and each kind of answer it gives.
 * Bodies copy the real public APIs field for field, errors included, so that the service's adapters parse
 * the mock exactly as they parse production.
 */
export interface ExchangeDefinition {
  readonly name: ExchangeName;
  /**
   * The requested symbol when `path` (below the /<exchange> prefix) is the ticker route; '' when the route
   * matches but the symbol is missing; undefined when this is not the ticker route at all.
   */
  symbolFrom(path: string, query: URLSearchParams): string | undefined;
  /** Symbol as requested → pair; anything else gets the unknown-symbol answer. */
  readonly symbols: Readonly<Record<string, PairSymbol>>;
  /** Extra acceptance rule of the real API, checked before the symbol (Coinbase's User-Agent). */
  rejectRequest?(headers: Readonly<Record<string, string | string[] | undefined>>): Reply | undefined;
  ticker(context: TickerContext): JsonObject;
  unknownSymbol(nowMs: number): Reply;
  /** Valid JSON of the wrong shape, derived from a real ticker body: bid price missing, others as numbers. */
  breakShape(body: JsonObject): JsonObject;
  /** The exchange's own error for a failed request, HTTP 200 where the exchange reports errors that way. */
  bodyError(nowMs: number): Reply;
  /** The exchange's rate-limit error as it reports it without an HTTP 429 (body-level where it has one). */
  bodyRateLimit(nowMs: number): Reply;
  /** Body sent with a rate-limit status (429/418/451). */
  rateLimitBody(status: number, nowMs: number, retryAfterSeconds: number | undefined): unknown;
}

export const genericStatusBody = (status: number) => ({ message: STATUS_CODES[status] ?? 'Error' });

/** Turns a decimal string into a JSON number: the schema fault's "price as a number". */
const asNumber = (value: unknown) => Number(value);

const price = (exchange: ExchangeName, value: bigint) =>
  formatFixed(value, QUOTE_PROFILES[exchange].decimals);

const binance: ExchangeDefinition = {
  name: 'binance',
  symbolFrom: (path, query) =>
    path === '/api/v3/ticker/bookTicker' ? (query.get('symbol') ?? '') : undefined,
  symbols: { ETHUSDT: 'ETH/USDT', BTCUSDT: 'BTC/USDT' },
  ticker: ({ pair, quote }) => ({
    symbol: pair.replace('/', ''),
    bidPrice: price('binance', quote.bid),
    bidQty: '12.34500000',
    askPrice: price('binance', quote.ask),
    askQty: '3.21000000',
  }),
  unknownSymbol: () => jsonReply(400, { code: -1121, msg: 'Invalid symbol.' }),
  breakShape: ({ bidPrice: _bidPrice, ...rest }) => ({ ...rest, askPrice: asNumber(rest.askPrice) }),
  // Binance never reports an error with HTTP 200.
  bodyError: () =>
    jsonReply(400, { code: -1000, msg: 'An unknown error occurred while processing the request.' }),
  bodyRateLimit: (nowMs) => jsonReply(429, binance.rateLimitBody(429, nowMs, undefined)),
  rateLimitBody: (status, nowMs, retryAfterSeconds) => {
    if (status === 418) {
      const until = nowMs + (retryAfterSeconds ?? 120) * 1000;
      return {
        code: -1003,
        msg: `Way too many requests; IP(127.0.0.1) banned until ${until}. Please use the websocket for live updates to avoid bans.`,
      };
    }
    if (status === 451) {
      return {
        code: 0,
        msg: "Service unavailable from a restricted location according to 'b. Eligibility' in https://www.binance.com/en/terms. Please contact customer service if you believe you received this message in error.",
      };
    }
    return {
      code: -1003,
      msg: 'Too many requests; current limit of IP(127.0.0.1) is 6000 requests per minute. Please use the websocket for live updates to avoid polling the API.',
    };
  },
};

const okx: ExchangeDefinition = {
  name: 'okx',
  symbolFrom: (path, query) => (path === '/api/v5/market/ticker' ? (query.get('instId') ?? '') : undefined),
  symbols: { 'ETH-USDT': 'ETH/USDT', 'BTC-USDT': 'BTC/USDT' },
  ticker: ({ pair, quote, nowMs }) => ({
    code: '0',
    msg: '',
    data: [
      {
        instType: 'SPOT',
        instId: pair.replace('/', '-'),
        last: price('okx', quote.last),
        lastSz: '0.0514',
        askPx: price('okx', quote.ask),
        askSz: '4.1375',
        bidPx: price('okx', quote.bid),
        bidSz: '9.8012',
        open24h: price('okx', quote.open24h),
        high24h: price('okx', quote.high24h),
        low24h: price('okx', quote.low24h),
        volCcy24h: '412345678.9012',
        vol24h: '117812.4517',
        ts: String(nowMs),
        sodUtc0: price('okx', quote.open24h),
        sodUtc8: price('okx', quote.open24h),
      },
    ],
  }),
  unknownSymbol: () => jsonReply(200, { code: '51001', msg: 'Instrument ID does not exist', data: [] }),
  breakShape: (body) => {
    const [first] = body.data as JsonObject[];
    const { bidPx: _bidPx, ...rest } = first ?? {};
    return { ...body, data: [{ ...rest, askPx: asNumber(rest.askPx), last: asNumber(rest.last) }] };
  },
  bodyError: () =>
    jsonReply(200, {
      code: '50001',
      msg: 'Service temporarily unavailable. Please try again later.',
      data: [],
    }),
  bodyRateLimit: () => jsonReply(200, { code: '50011', msg: 'Too Many Requests', data: [] }),
  rateLimitBody: (status) =>
    status === 429 ? { msg: 'Too Many Requests', code: '50011' } : genericStatusBody(status),
};

const COINBASE_TICKER_PATH = /^\/products\/([^/]+)\/ticker$/;

/** Coinbase prints microseconds; Date only has milliseconds, so the last three digits are padding. */
const coinbaseTime = (nowMs: number) => new Date(nowMs).toISOString().replace('Z', '000Z');

const coinbase: ExchangeDefinition = {
  name: 'coinbase',
  symbolFrom: (path) => {
    const match = COINBASE_TICKER_PATH.exec(path);
    if (!match) return undefined;
    try {
      // Product ids are case-insensitive on Coinbase.
      return decodeURIComponent(match[1] ?? '').toUpperCase();
    } catch {
      return '';
    }
  },
  symbols: { 'ETH-USDT': 'ETH/USDT', 'BTC-USDT': 'BTC/USDT' },
  rejectRequest: (headers) =>
    headers['user-agent'] ? undefined : jsonReply(400, { message: 'User-Agent header is required.' }),
  ticker: ({ quote, nowMs, sequence }) => ({
    ask: price('coinbase', quote.ask),
    bid: price('coinbase', quote.bid),
    volume: '48213.52736412',
    trade_id: 71_000_000 + sequence,
    price: price('coinbase', quote.last),
    size: '0.01532000',
    time: coinbaseTime(nowMs),
  }),
  unknownSymbol: () => jsonReply(404, { message: 'NotFound' }),
  breakShape: ({ bid: _bid, ...rest }) => ({ ...rest, ask: asNumber(rest.ask), price: asNumber(rest.price) }),
  // Coinbase never reports an error with HTTP 200.
  bodyError: () => jsonReply(400, { message: 'Bad Request' }),
  bodyRateLimit: () => jsonReply(429, { message: 'Public rate limit exceeded' }),
  rateLimitBody: (status) =>
    status === 429 ? { message: 'Public rate limit exceeded' } : genericStatusBody(status),
};

const kraken: ExchangeDefinition = {
  name: 'kraken',
  symbolFrom: (path, query) => (path === '/0/public/Ticker' ? (query.get('pair') ?? '') : undefined),
  // Kraken calls bitcoin XBT and accepts both spellings.
  symbols: { ETHUSDT: 'ETH/USDT', BTCUSDT: 'BTC/USDT', XBTUSDT: 'BTC/USDT' },
  ticker: ({ pair, quote }) => ({
    error: [],
    result: {
      // The result key is Kraken's own name for the pair, not necessarily the requested one.
      [pair === 'BTC/USDT' ? 'XBTUSDT' : 'ETHUSDT']: {
        a: [price('kraken', quote.ask), '1', '1.000'],
        b: [price('kraken', quote.bid), '2', '2.000'],
        c: [price('kraken', quote.last), '0.01000000'],
        v: ['1523.84123456', '6874.20345678'],
        p: [price('kraken', quote.vwap24h), price('kraken', quote.vwap24h)],
        t: [2841, 11873],
        l: [price('kraken', quote.low24h), price('kraken', quote.low24h)],
        h: [price('kraken', quote.high24h), price('kraken', quote.high24h)],
        o: price('kraken', quote.open24h),
      },
    },
  }),
  unknownSymbol: () => jsonReply(200, { error: ['EQuery:Unknown asset pair'] }),
  breakShape: (body) => {
    const result = body.result as Record<string, JsonObject>;
    const [key, ticker] = Object.entries(result)[0] ?? ['ETHUSDT', {}];
    const { b: _b, ...rest } = ticker;
    const numbers = (values: unknown) => (values as unknown[]).map(asNumber);
    return { ...body, result: { [key]: { ...rest, a: numbers(rest.a), c: numbers(rest.c) } } };
  },
  bodyError: () => jsonReply(200, { error: ['EGeneral:Internal error'] }),
  bodyRateLimit: () => jsonReply(200, { error: ['EAPI:Rate limit exceeded'] }),
  rateLimitBody: (status) =>
    status === 429 ? { error: ['EAPI:Rate limit exceeded'] } : genericStatusBody(status),
};

const kucoin: ExchangeDefinition = {
  name: 'kucoin',
  symbolFrom: (path, query) =>
    path === '/api/v1/market/orderbook/level1' ? (query.get('symbol') ?? '') : undefined,
  symbols: { 'ETH-USDT': 'ETH/USDT', 'BTC-USDT': 'BTC/USDT' },
  ticker: ({ quote, nowMs, sequence }) => ({
    code: '200000',
    data: {
      time: nowMs,
      sequence: String(14_610_000_000 + sequence),
      price: price('kucoin', quote.last),
      size: '0.0411',
      bestBid: price('kucoin', quote.bid),
      bestBidSize: '6.2398',
      bestAsk: price('kucoin', quote.ask),
      bestAskSize: '0.5112',
    },
  }),
  unknownSymbol: () => jsonReply(200, { code: '400100', msg: 'Unsupported trading pair.' }),
  breakShape: (body) => {
    const { bestBid: _bestBid, ...rest } = body.data as JsonObject;
    return { ...body, data: { ...rest, bestAsk: asNumber(rest.bestAsk), price: asNumber(rest.price) } };
  },
  bodyError: () => jsonReply(200, { code: '500000', msg: 'Internal Server Error' }),
  bodyRateLimit: () => jsonReply(200, { code: '429000', msg: 'Too Many Requests' }),
  rateLimitBody: (status) =>
    status === 429 ? { code: '429000', msg: 'Too Many Requests' } : genericStatusBody(status),
};

const bybitEnvelope = (retCode: number, retMsg: string, nowMs: number) => ({
  retCode,
  retMsg,
  result: {},
  retExtInfo: {},
  time: nowMs,
});

const bybit: ExchangeDefinition = {
  name: 'bybit',
  symbolFrom: (path, query) => {
    if (path !== '/v5/market/tickers') return undefined;
    // Only the spot book is mocked; another category cannot name a listed symbol.
    return query.get('category') === 'spot' ? (query.get('symbol') ?? '') : '';
  },
  symbols: { ETHUSDT: 'ETH/USDT', BTCUSDT: 'BTC/USDT' },
  ticker: ({ pair, quote, nowMs }) => {
    const change = quote.last - quote.open24h;
    return {
      retCode: 0,
      retMsg: 'OK',
      result: {
        category: 'spot',
        list: [
          {
            symbol: pair.replace('/', ''),
            bid1Price: price('bybit', quote.bid),
            bid1Size: '3.742',
            ask1Price: price('bybit', quote.ask),
            ask1Size: '1.0195',
            lastPrice: price('bybit', quote.last),
            prevPrice24h: price('bybit', quote.open24h),
            price24hPcnt: formatFixed(divRound(change * ONE, quote.open24h), 4),
            highPrice24h: price('bybit', quote.high24h),
            lowPrice24h: price('bybit', quote.low24h),
            turnover24h: '187654321.12345678',
            volume24h: '53512.30451',
            usdIndexPrice: price('bybit', quote.last),
          },
        ],
      },
      retExtInfo: {},
      time: nowMs,
    };
  },
  unknownSymbol: (nowMs) => jsonReply(200, bybitEnvelope(10001, 'Not supported symbols', nowMs)),
  breakShape: (body) => {
    const result = body.result as JsonObject;
    const [first] = result.list as JsonObject[];
    const { bid1Price: _bid1Price, ...rest } = first ?? {};
    return {
      ...body,
      result: {
        ...result,
        list: [{ ...rest, ask1Price: asNumber(rest.ask1Price), lastPrice: asNumber(rest.lastPrice) }],
      },
    };
  },
  bodyError: (nowMs) => jsonReply(200, bybitEnvelope(10016, 'Server error.', nowMs)),
  bodyRateLimit: (nowMs) => jsonReply(200, bybitEnvelope(10006, 'Too many visits!', nowMs)),
  rateLimitBody: (status, nowMs) =>
    status === 429 ? bybitEnvelope(10006, 'Too many visits!', nowMs) : genericStatusBody(status),
};

export const EXCHANGE_DEFINITIONS: Readonly<Record<ExchangeName, ExchangeDefinition>> = {
  binance,
  okx,
  coinbase,
  kraken,
  kucoin,
  bybit,
};
