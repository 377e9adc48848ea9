import { Big, divideByInteger, toDecimalString } from '../decimal';
import { alignDown } from './intervals';
import { hasPrice, type HistoryPoint, type InEffectRules, type PointStatus } from './price-point';

/**
 * One interval [startMs, endMs) of the price in effect. Mergeable: the sums are kept exact, so candles of a
 * coarse interval built from finer candles equal those built from the points (TWAP and coverage are
 * derived at the end, see candleFigures). A gap (no price in effect at any instant) has no OHLC.
 */
export interface Candle {
  readonly startMs: number;
  readonly endMs: number;
  /** Prices as published (canonical decimal strings). The first price in effect in the interval (the one carried in at its start, if any). */
  readonly open?: string;
  readonly high?: string;
  readonly low?: string;
  /** The last price in effect in the interval. */
  readonly close?: string;
  /** Σ price × ms it was in effect: exact (a product of decimals needs no rounding). */
  readonly weightedSum: string;
  /** ms with a price in effect (any status). */
  readonly coveredMs: number;
  /** ms with an ok or degraded price in effect. */
  readonly freshMs: number;
  readonly degradedMs: number;
  readonly staleMs: number;
  /** Points published inside the interval (a carried-in price is not one of them). */
  readonly points: number;
}

/** A stretch of time [from, to) with one price in effect. */
interface Segment {
  readonly from: number;
  readonly to: number;
  readonly price: string;
  readonly status: PointStatus;
}

/**
 * The stretches with a price in effect inside [start, end), from points sorted by time that include the
 * last point before `start` (the carried-in price) if there is one.
 */
function segments(points: readonly HistoryPoint[], start: number, end: number, rules: InEffectRules) {
  const out: Segment[] = [];
  for (let i = 0; i < points.length; i++) {
    const point = points[i]!;
    if (point.t >= end) break;
    if (!hasPrice(point)) continue;
    const next = points[i + 1];
    const to = Math.min(next === undefined ? Infinity : next.t, point.t + rules.maxInEffectMs, end);
    const from = Math.max(point.t, start);
    if (to > from) out.push({ from, to, price: point.price, status: point.status });
  }
  return out;
}

function emptyCandle(startMs: number, endMs: number): Candle {
  return { startMs, endMs, weightedSum: '0', coveredMs: 0, freshMs: 0, degradedMs: 0, staleMs: 0, points: 0 };
}

function candleOf(segs: readonly Segment[], points: number, startMs: number, endMs: number): Candle {
  if (segs.length === 0) return { ...emptyCandle(startMs, endMs), points };
  let high = segs[0]!.price;
  let low = high;
  let sum = new Big(0);
  let coveredMs = 0;
  let freshMs = 0;
  let degradedMs = 0;
  let staleMs = 0;
  for (const seg of segs) {
    const price = new Big(seg.price);
    const ms = seg.to - seg.from;
    if (price.gt(high)) high = seg.price;
    if (price.lt(low)) low = seg.price;
    sum = sum.plus(price.times(ms));
    coveredMs += ms;
    if (seg.status === 'stale') staleMs += ms;
    else freshMs += ms;
    if (seg.status === 'degraded') degradedMs += ms;
  }
  return {
    startMs,
    endMs,
    open: segs[0]!.price,
    high,
    low,
    close: segs[segs.length - 1]!.price,
    weightedSum: toDecimalString(sum),
    coveredMs,
    freshMs,
    degradedMs,
    staleMs,
    points,
  };
}

/**
 * Candles of `intervalMs` from fromMs up to toMs, every interval present, gaps included; the caller aligns
 * fromMs (a TWAP window need not be). `points` sorted by time: those in the range and the last one before it.
 */
export function candlesFromPoints(
  points: readonly HistoryPoint[],
  fromMs: number,
  toMs: number,
  intervalMs: number,
  rules: InEffectRules,
): Candle[] {
  const all = segments(points, fromMs, toMs, rules);
  const candles: Candle[] = [];
  let s = 0;
  let p = 0;
  while (p < points.length && points[p]!.t < fromMs) p++;
  for (let start = fromMs; start < toMs; start += intervalMs) {
    const end = start + intervalMs;
    const inside: Segment[] = [];
    while (s < all.length && all[s]!.from < end) {
      const seg = all[s]!;
      inside.push({ ...seg, to: Math.min(seg.to, end) });
      if (seg.to > end) {
        all[s] = { ...seg, from: end };
        break;
      }
      s++;
    }
    let count = 0;
    while (p < points.length && points[p]!.t < end) {
      if (hasPrice(points[p]!)) count++;
      p++;
    }
    candles.push(candleOf(inside, count, start, end));
  }
  return candles;
}

/** One candle over the consecutive candles given (all of them inside it), e.g. five 1m into one 5m. */
export function mergeCandles(parts: readonly Candle[], startMs: number, endMs: number): Candle {
  // One candle of the same interval (1m regrouped into 1m): itself, without decimal work.
  const only = parts.length === 1 ? parts[0]! : undefined;
  if (only !== undefined && only.startMs === startMs && only.endMs === endMs) return only;
  const priced = parts.filter((c) => c.open !== undefined);
  const merged = emptyCandle(startMs, endMs);
  if (priced.length === 0) return { ...merged, points: parts.reduce((n, c) => n + c.points, 0) };
  let high = priced[0]!.high!;
  let low = priced[0]!.low!;
  let sum = new Big(0);
  for (const c of priced) {
    if (new Big(c.high!).gt(high)) high = c.high!;
    if (new Big(c.low!).lt(low)) low = c.low!;
    sum = sum.plus(c.weightedSum);
  }
  const total = (key: 'coveredMs' | 'freshMs' | 'degradedMs' | 'staleMs' | 'points') =>
    parts.reduce((n, c) => n + c[key], 0);
  return {
    startMs,
    endMs,
    open: priced[0]!.open!,
    high,
    low,
    close: priced[priced.length - 1]!.close!,
    weightedSum: toDecimalString(sum),
    coveredMs: total('coveredMs'),
    freshMs: total('freshMs'),
    degradedMs: total('degradedMs'),
    staleMs: total('staleMs'),
    points: total('points'),
  };
}

/**
 * Fine candles (sorted, each inside one coarse interval; missing ones are gaps) regrouped into every coarse
 * interval of [fromMs, toMs).
 */
export function regroupCandles(
  fine: readonly Candle[],
  fromMs: number,
  toMs: number,
  intervalMs: number,
): Candle[] {
  const out: Candle[] = [];
  let i = 0;
  for (let start = alignDown(fromMs, intervalMs); start < toMs; start += intervalMs) {
    const end = start + intervalMs;
    while (i < fine.length && fine[i]!.startMs < start) i++;
    const parts: Candle[] = [];
    while (i < fine.length && fine[i]!.startMs < end) parts.push(fine[i++]!);
    out.push(mergeCandles(parts, start, end));
  }
  return out;
}

/** What a client is shown of a candle: TWAP and the share covered by a fresh price, in decimal. */
export interface CandleFigures {
  readonly gap: boolean;
  /** Σ price × ms / ms covered (18 decimal places, half-even); undefined for a gap. */
  readonly twap?: string;
  /** freshMs / interval length. */
  readonly freshCoverage: string;
}

export function candleFigures(candle: Candle): CandleFigures {
  const length = candle.endMs - candle.startMs;
  const freshCoverage = divideByInteger(String(candle.freshMs), length);
  if (candle.coveredMs === 0) return { gap: true, freshCoverage };
  return { gap: false, twap: divideByInteger(candle.weightedSum, candle.coveredMs), freshCoverage };
}

/**
 * `fill=previous`: a gap takes the last close before it as open, high, low and close (covered time and
 * points stay 0: the candle still says nothing was in effect). `previousClose` seeds a leading gap.
 */
export function fillPrevious(candles: readonly Candle[], previousClose?: string): Candle[] {
  let last = previousClose;
  return candles.map((c) => {
    if (c.close !== undefined) {
      last = c.close;
      return c;
    }
    return last === undefined ? c : { ...c, open: last, high: last, low: last, close: last };
  });
}

/** The time-weighted average of the price in effect over [fromMs, toMs), with the window's coverage. */
export function twapOver(
  points: readonly HistoryPoint[],
  fromMs: number,
  toMs: number,
  rules: InEffectRules,
): CandleFigures & { readonly candle: Candle } {
  const [candle] = candlesFromPoints(points, fromMs, toMs, toMs - fromMs, rules);
  const whole = candle ?? emptyCandle(fromMs, toMs);
  return { ...candleFigures(whole), candle: whole };
}
