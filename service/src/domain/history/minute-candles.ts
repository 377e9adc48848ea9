import { candlesFromPoints, regroupCandles, type Candle } from './candles';
import { alignDown, CANDLE_INTERVALS } from './intervals';
import type { HistoryPoint, InEffectRules } from './price-point';

/**
 * Minute candles are pre-aggregated as minutes close, so a long range reads one candle a minute (or fewer),
 * never the fine points. These rules are shared by the in-memory and the Redis store.
 */
export const MINUTE_MS = CANDLE_INTERVALS['1m'];
/** Hour candles are closed from the minute candles the same way: a month of 1h candles reads 720 of them. */
export const HOUR_MS = CANDLE_INTERVALS['1h'];

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
  lengthMs: number = MINUTE_MS,
): { readonly fromMs: number; readonly toMs: number } | undefined {
  const fromMs = alignDown(previousT, lengthMs);
  const newMinute = alignDown(newT, lengthMs);
  if (newMinute <= fromMs) return undefined;
  const lastInEffect = alignDown(previousT + rules.maxInEffectMs, lengthMs) + lengthMs;
  return { fromMs, toMs: Math.min(newMinute, lastInEffect) };
}

/**
 * Where the stored minute candles end and candles must be computed from the points: the minute of the last
 * point is still open. A writer closes minutes just after it appends the point that closes them, so a reader
 * may see the point before its minutes: the open stretch starts at the last stored minute if that is
 * earlier, at most a few minutes back (further back, the minutes were gaps and are computed as such).
 */
export function openFrom(
  lastPointT: number,
  lastStoredMinuteStart: number | undefined,
  lengthMs: number = MINUTE_MS,
): number {
  const lastMinute = alignDown(lastPointT, lengthMs);
  const afterStored = lastStoredMinuteStart === undefined ? lastMinute : lastStoredMinuteStart + lengthMs;
  return Math.max(lastMinute - 5 * lengthMs, Math.min(lastMinute, afterStored));
}

/** The hour candles of [fromMs, toMs) (hour-aligned) worth storing, from that stretch's minute candles. */
export function hoursFromMinutes(minutes: readonly Candle[], fromMs: number, toMs: number): Candle[] {
  return regroupCandles(minutes, fromMs, toMs, HOUR_MS).filter(isWorthStoring);
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

/**
 * For candles of whole hours over [fromMs, toMs) (hour-aligned): stored hours before `storedToMs`, then
 * minute candles over [minutesFromMs, minutesToMs) for the hours still open (none past where the last price
 * can be in effect: those are gaps).
 */
export function hourPlan(
  lastPointT: number,
  lastStoredHourStart: number | undefined,
  fromMs: number,
  toMs: number,
  rules: InEffectRules,
): { readonly storedToMs: number; readonly minutesFromMs: number; readonly minutesToMs: number } {
  const hoursOpen = openFrom(lastPointT, lastStoredHourStart, HOUR_MS);
  return {
    storedToMs: Math.min(toMs, hoursOpen),
    minutesFromMs: Math.max(fromMs, hoursOpen),
    minutesToMs: Math.min(toMs, alignDown(lastPointT + rules.maxInEffectMs, HOUR_MS) + HOUR_MS),
  };
}
