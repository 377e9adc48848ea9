/** The candle intervals served, as data: name → length in ms. Candles are aligned to UTC (1d at midnight). */
export const CANDLE_INTERVALS = {
  '1s': 1_000,
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
  '1d': 86_400_000,
} as const;

export type CandleInterval = keyof typeof CANDLE_INTERVALS;

/** Finest first. */
export const INTERVAL_NAMES = Object.keys(CANDLE_INTERVALS) as CandleInterval[];

/**
 * The most candles one range may span at its interval: the bound on the work of one request (24 h of 1m
 * candles is 1440, 30 days of 1h is 720). A finer interval over a longer range is refused, never scanned.
 */
export const MAX_CANDLES_PER_RANGE = 1_500;

export function isCandleInterval(name: string): name is CandleInterval {
  return Object.hasOwn(CANDLE_INTERVALS, name);
}

/** How many candles [fromMs, toMs) spans at the interval, counting the partial ones at either end. */
export function candleCount(fromMs: number, toMs: number, interval: CandleInterval): number {
  const length = CANDLE_INTERVALS[interval];
  if (toMs <= fromMs) return 0;
  return Math.max(0, Math.ceil(toMs / length) - Math.floor(fromMs / length));
}

/** The finest interval whose candles over [fromMs, toMs) stay within MAX_CANDLES_PER_RANGE. */
export function finestIntervalFor(fromMs: number, toMs: number): CandleInterval | undefined {
  return INTERVAL_NAMES.find((name) => candleCount(fromMs, toMs, name) <= MAX_CANDLES_PER_RANGE);
}

/** The start of the candle of the given length that holds `t`. */
export function alignDown(t: number, lengthMs: number): number {
  return Math.floor(t / lengthMs) * lengthMs;
}
