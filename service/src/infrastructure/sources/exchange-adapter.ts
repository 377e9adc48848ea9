import type { Pair } from '../../domain/pair';
import type { Ticker } from '../../domain/quote';

export const EXCHANGES = ['binance', 'okx', 'coinbase', 'kraken', 'kucoin', 'bybit'] as const;
export type ExchangeName = (typeof EXCHANGES)[number];

/**
 * What differs between exchanges: where to ask and how to read the answer. Transport, retries, breakers
 * and timing live in http-price-source.ts, once for all of them.
 */
export interface ExchangeAdapter {
  readonly name: ExchangeName;
  /** Production base URL, no trailing slash. Overridable per source by configuration. */
  readonly defaultBaseUrl: string;
  /** Path and query string of the pair's ticker, appended to the base URL ("/api/v3/ticker/bookTicker?symbol=ETHUSDT"). */
  tickerPath(pair: Pair): string;
  /**
   * Validates a JSON body received with HTTP 2xx and extracts the ticker.
   * Throws UpstreamBodyError for an exchange-reported error (many come with HTTP 200),
   * UpstreamRateLimitedError for a body-level rate-limit code, UpstreamInvalidBodyError for anything
   * that does not match the schema or carries an impossible price (non-decimal, <= 0, bid >= ask).
   */
  parseTicker(body: unknown, pair: Pair): Ticker;
  /** Best-effort description of an error body sent with a non-2xx status, for logs. */
  describeErrorBody(body: unknown): string | undefined;
}
