import { request } from 'node:http';

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

export interface RequestOptions {
  readonly method?: string;
  /** Sent exactly as given: node:http adds no User-Agent, unlike fetch. */
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/** A plain HTTP client that never throws on status, so tests can assert on any answer. */
export function http(url: string, options: RequestOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** GET with a User-Agent, as every real client sends one. */
export function get(url: string): Promise<RawResponse> {
  return http(url, { headers: { 'user-agent': 'mock-exchange-tests' } });
}

export async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await get(url);
  return { status: response.status, body: JSON.parse(response.text) as Record<string, unknown> };
}

export function sendJson(url: string, method: string, body: unknown): Promise<RawResponse> {
  return http(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Ticker paths of ETH/USDT on each exchange, relative to the exchange's base URL. */
export const ETH_TICKER_PATHS = {
  binance: '/api/v3/ticker/bookTicker?symbol=ETHUSDT',
  okx: '/api/v5/market/ticker?instId=ETH-USDT',
  coinbase: '/products/ETH-USDT/ticker',
  kraken: '/0/public/Ticker?pair=ETHUSDT',
  kucoin: '/api/v1/market/orderbook/level1?symbol=ETH-USDT',
  bybit: '/v5/market/tickers?category=spot&symbol=ETHUSDT',
} as const;

export const BTC_TICKER_PATHS = {
  binance: '/api/v3/ticker/bookTicker?symbol=BTCUSDT',
  okx: '/api/v5/market/ticker?instId=BTC-USDT',
  coinbase: '/products/BTC-USDT/ticker',
  kraken: '/0/public/Ticker?pair=BTCUSDT',
  kucoin: '/api/v1/market/orderbook/level1?symbol=BTC-USDT',
  bybit: '/v5/market/tickers?category=spot&symbol=BTCUSDT',
} as const;

export const UNKNOWN_TICKER_PATHS = {
  binance: '/api/v3/ticker/bookTicker?symbol=DOGEEUR',
  okx: '/api/v5/market/ticker?instId=DOGE-EUR',
  coinbase: '/products/DOGE-EUR/ticker',
  kraken: '/0/public/Ticker?pair=DOGEEUR',
  kucoin: '/api/v1/market/orderbook/level1?symbol=DOGE-EUR',
  bybit: '/v5/market/tickers?category=spot&symbol=DOGEEUR',
} as const;

export interface BookPrices {
  readonly bid: string;
  readonly ask: string;
}

/** Reads bid and ask the way each exchange's adapter must; throws if the shape is not the real one. */
export function bookOf(exchange: keyof typeof ETH_TICKER_PATHS, body: Record<string, unknown>): BookPrices {
  const pick = (source: unknown, bidKey: string, askKey: string): BookPrices => {
    const record = source as Record<string, unknown>;
    const bid = record[bidKey];
    const ask = record[askKey];
    if (typeof bid !== 'string' || typeof ask !== 'string')
      throw new Error(`no string bid/ask in ${JSON.stringify(source)}`);
    return { bid, ask };
  };
  switch (exchange) {
    case 'binance':
      return pick(body, 'bidPrice', 'askPrice');
    case 'okx':
      return pick((body.data as unknown[])[0], 'bidPx', 'askPx');
    case 'coinbase':
      return pick(body, 'bid', 'ask');
    case 'kraken': {
      // Like the service's adapter: the first key, whatever Kraken named it.
      const ticker = Object.values(body.result as Record<string, { a?: unknown[]; b?: unknown[] }>)[0];
      return pick({ bid: ticker?.b?.[0], ask: ticker?.a?.[0] }, 'bid', 'ask');
    }
    case 'kucoin':
      return pick(body.data, 'bestBid', 'bestAsk');
    case 'bybit':
      return pick(((body.result as Record<string, unknown>).list as unknown[])[0], 'bid1Price', 'ask1Price');
  }
}

/** Compares decimal strings exactly (no floats): -1, 0 or 1. */
export function compareDecimals(left: string, right: string): number {
  const [leftWhole = '', leftFraction = ''] = left.split('.');
  const [rightWhole = '', rightFraction = ''] = right.split('.');
  const width = Math.max(leftFraction.length, rightFraction.length);
  const a = BigInt(leftWhole + leftFraction.padEnd(width, '0'));
  const b = BigInt(rightWhole + rightFraction.padEnd(width, '0'));
  return a < b ? -1 : a > b ? 1 : 0;
}
