/** Clocks drift; a timestamp further ahead than this is a broken or hostile value, not a fresh price. */
export const MAX_FUTURE_SKEW_MS = 30_000;

/**
 * One exchange's view of a pair at one moment, as validated from its response body.
 * Prices are decimal strings exactly as the exchange sent them (canonicalised), never floats.
 */
export interface Quote {
  readonly exchange: string;
  /** Pair slug, e.g. "eth-usdt". */
  readonly pair: string;
  readonly bid: string;
  readonly ask: string;
  /** Last trade price when the exchange reports one; informational only. */
  readonly last?: string;
  /** When the price was true: the exchange's own timestamp, or our receive time when it sends none. */
  readonly timestampMs: number;
  /** Whether timestampMs came from the exchange or is our receive time (never invented silently). */
  readonly timestampSource: 'exchange' | 'receive';
  readonly receivedAtMs: number;
  /** Round trip of the successful request, retries included. */
  readonly latencyMs: number;
}

/** What an exchange adapter extracts from a body; the HTTP layer adds exchange, pair and timing. */
export interface Ticker {
  readonly bid: string;
  readonly ask: string;
  readonly last?: string;
  /** Exchange timestamp in epoch ms, when the body carries one. */
  readonly timestampMs?: number;
}
