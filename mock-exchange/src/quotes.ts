import { divRound, formatFixed, ONE, parseDecimal, roundTo } from './decimal';

export const EXCHANGES = ['binance', 'okx', 'coinbase', 'kraken', 'kucoin', 'bybit'] as const;
export type ExchangeName = (typeof EXCHANGES)[number];

export const PAIRS = ['ETH/USDT', 'BTC/USDT'] as const;
export type PairSymbol = (typeof PAIRS)[number];

export function isExchangeName(text: string): text is ExchangeName {
  return (EXCHANGES as readonly string[]).includes(text);
}

/** Accepts "ETH/USDT", "eth-usdt" or "ETH-USDT". */
export function parsePairSymbol(text: string): PairSymbol | undefined {
  const normalised = text.trim().toUpperCase().replace('-', '/');
  return (PAIRS as readonly string[]).includes(normalised) ? (normalised as PairSymbol) : undefined;
}

interface QuoteProfile {
  /** Decimals the exchange prints prices with; the values themselves are always whole cents. */
  readonly decimals: number;
  /** Stable displacement of this exchange's mid from the reference, so sources differ slightly. */
  readonly offsetBps: number;
  /** Half the bid/ask spread, in cents. */
  readonly halfSpreadCents: number;
}

/**
 * Offsets are symmetric around zero (-3..+3 bps, none at 0), so with all six sources healthy the median of
 * the per-exchange mids equals the reference mid exactly whenever the reference is a whole number of cents
 * that keeps every offset on a cent (3500.00 and 95000.00 do: 1 bp is 0.35 and 9.50).
 */
export const QUOTE_PROFILES: Readonly<Record<ExchangeName, QuoteProfile>> = {
  binance: { decimals: 8, offsetBps: 1, halfSpreadCents: 3 },
  okx: { decimals: 2, offsetBps: -1, halfSpreadCents: 1 },
  coinbase: { decimals: 2, offsetBps: 2, halfSpreadCents: 2 },
  kraken: { decimals: 5, offsetBps: -2, halfSpreadCents: 3 },
  kucoin: { decimals: 2, offsetBps: 3, halfSpreadCents: 1 },
  bybit: { decimals: 2, offsetBps: -3, halfSpreadCents: 2 },
};

/** One exchange's book at one moment, in scaled units, already rounded to the exchange's decimals. */
export interface ScaledQuote {
  readonly bid: bigint;
  readonly ask: bigint;
  /** Last trade and mid of bid/ask: the spread is symmetric so both are the same number. */
  readonly last: bigint;
  readonly open24h: bigint;
  readonly high24h: bigint;
  readonly low24h: bigint;
  readonly vwap24h: bigint;
}

const CENT = ONE / 100n;
/** The real books quote ETH/USDT and BTC/USDT in whole cents (tick 0.01), whatever decimals they print. */
const TICK_DECIMALS = 2;

/** Derives an exchange's quote from the reference mid; `factor` (scaled) is the spike multiplier. */
export function quoteFor(exchange: ExchangeName, referenceMid: bigint, factor: bigint = ONE): ScaledQuote {
  const profile = QUOTE_PROFILES[exchange];
  const shifted = divRound(referenceMid * BigInt(10_000 + profile.offsetBps), 10_000n);
  const last = roundTo(divRound(shifted * factor, ONE), TICK_DECIMALS);
  const halfSpread = BigInt(profile.halfSpreadCents) * CENT;
  const scaleBy = (bps: bigint) => roundTo(divRound(last * bps, 10_000n), TICK_DECIMALS);
  return {
    bid: last - halfSpread,
    ask: last + halfSpread,
    last,
    open24h: scaleBy(9_900n),
    high24h: scaleBy(10_150n),
    low24h: scaleBy(9_800n),
    vwap24h: scaleBy(10_010n),
  };
}

export interface ExpectedQuote {
  readonly bid: string;
  readonly ask: string;
  /** (bid + ask) / 2, which is also the last trade price the mock reports. */
  readonly mid: string;
}

/**
 * What the mock will serve for an exchange given a pinned reference mid (and optionally a spike factor),
 * formatted with that exchange's decimals: lets a test compute the service's expected median exactly.
 */
export function expectedQuote(exchange: ExchangeName, mid: string, factor = '1'): ExpectedQuote {
  const scaledMid = parseDecimal(mid);
  const scaledFactor = parseDecimal(factor);
  if (scaledMid === undefined || scaledFactor === undefined) {
    throw new Error(`expectedQuote: mid and factor must be decimal strings, got ${mid} and ${factor}`);
  }
  const quote = quoteFor(exchange, scaledMid, scaledFactor);
  const { decimals } = QUOTE_PROFILES[exchange];
  return {
    bid: formatFixed(quote.bid, decimals),
    ask: formatFixed(quote.ask, decimals),
    mid: formatFixed(quote.last, decimals),
  };
}
