import { candlesFromPoints, regroupCandles, type Candle } from './candles';
import { alignDown, CANDLE_INTERVALS } from './intervals';
import type { HistoryPoint, InEffectRules } from './price-point';

/**
 * Minute candles are pre-aggregated as minutes close, so a long range reads one candle a minute (or fewer),
 * never the fine points. These rules are shared by the in-memory and the Redis store.
 */
export const MINUTE_MS = CANDLE_INTERVALS['1m'];

/** A minute with nothing in effect and no point is not stored: a missing minute is a gap. */
export function isWorthStoring(candle: Candle): boolean {
  return candle.coveredMs > 0 || candle.points > 0;
}

/**
 * The minutes a new point at `newT` closes, given the point before it at `previousT`: from the previous
 * point's minute up to the new point's minute, but no further than the previous price could stay in effect
 * (after that every minute is a gap and is not stored). Undefined when the new point is in the same minute.
 */
export function minutesClosedBy(
  previousT: number,
  newT: number,
  rules: InEffectRules,
): { readonly fromMs: number; readonly toMs: number } | undefined {
  const fromMs = alignDown(previousT, MINUTE_MS);
  const newMinute = alignDown(newT, MINUTE_MS);
  if (newMinute <= fromMs) return undefined;
  const lastInEffect = alignDown(previousT + rules.maxInEffectMs, MINUTE_MS) + MINUTE_MS;
  return { fromMs, toMs: Math.min(newMinute, lastInEffect) };
}

/**
 * Where the stored minute candles end and candles must be computed from the points: the minute of the last
 * point is still open. A writer closes minutes just after it appends the point that closes them, so a reader
 * may see the point before its minutes: the open stretch starts at the last stored minute if that is
 * earlier, at most a few minutes back (further back, the minutes were gaps and are computed as such).
 */
export function openFrom(lastPointT: number, lastStoredMinuteStart: number | undefined): number {
  const lastMinute = alignDown(lastPointT, MINUTE_MS);
  const afterStored = lastStoredMinuteStart === undefined ? lastMinute : lastStoredMinuteStart + MINUTE_MS;
  return Math.max(lastMinute - 5 * MINUTE_MS, Math.min(lastMinute, afterStored));
}

/**
 * Candles of `intervalMs` over [fromMs, toMs) (aligned, interval ≥ 1 minute): the stored minutes before
 * `openFromMs`, and minutes computed from `openPoints` (the points from openFromMs, with the one before it)
 * from there, up to where the last price can still be in effect.
 */
export function assembleCandles(input: {
  readonly storedMinutes: readonly Candle[];
  readonly openFromMs: number;
  readonly openPoints: readonly HistoryPoint[];
  readonly fromMs: number;
  readonly toMs: number;
  readonly intervalMs: number;
  readonly rules: InEffectRules;
}): Candle[] {
  const { openFromMs, openPoints, fromMs, toMs, intervalMs, rules } = input;
  const closed = input.storedMinutes.filter(
    (c) => c.startMs >= fromMs && c.startMs < Math.min(toMs, openFromMs),
  );
  const last = openPoints[openPoints.length - 1];
  const openStart = Math.max(openFromMs, fromMs);
  const openEnd =
    last === undefined
      ? openStart
      : Math.min(toMs, alignDown(last.t + rules.maxInEffectMs, MINUTE_MS) + MINUTE_MS);
  const open = openEnd > openStart ? candlesFromPoints(openPoints, openStart, openEnd, MINUTE_MS, rules) : [];
  return regroupCandles([...closed, ...open.filter(isWorthStoring)], fromMs, toMs, intervalMs);
}
