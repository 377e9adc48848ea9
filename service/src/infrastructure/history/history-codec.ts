import { isDecimalString, isPositiveDecimalString } from '../../domain/decimal';
import type { Candle } from '../../domain/history/candles';
import type { HistoryPoint, PointSource } from '../../domain/history/price-point';

/**
 * How points and minute candles are written as stream entry values: one field of compact JSON arrays (field
 * names would be stored in every entry). Read back strictly, as the L2 snapshots are: a malformed value
 * from Redis is refused, never served.
 */

const STATUSES = new Set(['ok', 'degraded', 'stale']);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isShortText = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 32;

/** `[price, status, [[exchange, state, mid?], …]]`, or `[]` for the end of a price. */
export function encodePoint(point: HistoryPoint): string {
  if (point.status === 'unavailable') return '[]';
  const sources = (point.sources ?? []).map((s) =>
    s.mid === undefined ? [s.exchange, s.state] : [s.exchange, s.state, s.mid],
  );
  return JSON.stringify([point.price, point.status, sources]);
}

export function decodePoint(t: number, text: string): HistoryPoint | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (value.length === 0) return { t, status: 'unavailable' };
  const [price, status, sources] = value as unknown[];
  if (value.length !== 3 || !isPositiveDecimalString(price) || !STATUSES.has(status as string))
    return undefined;
  if (!Array.isArray(sources) || sources.length > 32) return undefined;
  const decoded: PointSource[] = [];
  for (const s of sources as unknown[]) {
    if (!Array.isArray(s) || s.length < 2 || s.length > 3 || !isShortText(s[0]) || !isShortText(s[1])) {
      return undefined;
    }
    if (s.length === 3 && !isPositiveDecimalString(s[2])) return undefined;
    decoded.push(
      s.length === 3 ? { exchange: s[0], state: s[1], mid: s[2] } : { exchange: s[0], state: s[1] },
    );
  }
  return { t, price, status: status as 'ok' | 'degraded' | 'stale', sources: decoded };
}

/** `[open, high, low, close, weightedSum, coveredMs, freshMs, degradedMs, staleMs, points]`; no OHLC for a gap. */
export function encodeCandle(candle: Candle): string {
  const ohlc = candle.open === undefined ? [] : [candle.open, candle.high, candle.low, candle.close];
  return JSON.stringify([
    ...ohlc,
    candle.weightedSum,
    candle.coveredMs,
    candle.freshMs,
    candle.degradedMs,
    candle.staleMs,
    candle.points,
  ]);
}

/** A minute or an hour candle (`lengthMs`, from the stream it was read from). */
export function decodeCandle(startMs: number, lengthMs: number, text: string): Candle | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || (value.length !== 10 && value.length !== 6)) return undefined;
  const ohlc = value.length === 10 ? (value.slice(0, 4) as unknown[]) : [];
  const [weightedSum, coveredMs, freshMs, degradedMs, staleMs, points] = value.slice(
    ohlc.length,
  ) as unknown[];
  if (!ohlc.every(isPositiveDecimalString) || !isDecimalString(weightedSum)) return undefined;
  const counts = [coveredMs, freshMs, degradedMs, staleMs, points];
  if (!counts.every(isCount) || (coveredMs as number) > lengthMs) return undefined;
  const [open, high, low, close] = ohlc as string[];
  return {
    startMs,
    endMs: startMs + lengthMs,
    ...(open === undefined ? {} : { open, high, low, close }),
    weightedSum,
    coveredMs: coveredMs as number,
    freshMs: freshMs as number,
    degradedMs: degradedMs as number,
    staleMs: staleMs as number,
    points: points as number,
  };
}

/** A stream entry id of ours: `<ms>-0`. */
export function entryTime(id: string): number | undefined {
  const match = /^(\d{1,15})-0$/.exec(id);
  return match === null ? undefined : Number(match[1]);
}
