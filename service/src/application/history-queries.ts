import { candlesFromPoints, mergeCandles, type Candle } from '../domain/history/candles';
import { alignDown, CANDLE_INTERVALS, type CandleInterval } from '../domain/history/intervals';
import { MINUTE_MS } from '../domain/history/minute-candles';
import type { InEffectRules } from '../domain/history/price-point';
import type { PriceHistory } from './price-history';

/** A candle as a query answers it: the interval, and whether it is still open or may still change. */
export interface CandleAnswer {
  readonly candle: Candle;
  /** Its interval has not ended yet: the candle runs from its start to the moment of the query. */
  readonly open: boolean;
  /**
   * Nothing can change it any more: its interval ends at or before the newest point stored, and points are
   * only ever appended after that one.
   */
  readonly final: boolean;
}

/**
 * The questions the history routes ask, answered from a PriceHistory with bounded work: whole minutes come
 * from the stored minute candles (or hours), only the stretches inside a minute from the fine points.
 * Candles merge exactly (their sums are kept whole), so a stretch built in pieces equals one built from
 * every point.
 */
export function createHistoryQueries(history: PriceHistory, rules: InEffectRules) {
  /** One candle from the points of [fromMs, toMs), which lies inside one minute (or is short). */
  async function fromPoints(pair: string, fromMs: number, toMs: number): Promise<Candle[]> {
    if (toMs <= fromMs) return [];
    const points = await history.points(pair, fromMs, toMs);
    return candlesFromPoints(points, fromMs, toMs, toMs - fromMs, rules);
  }

  /** One candle over any [fromMs, toMs), e.g. a TWAP window ending now or an open candle. */
  async function spanCandle(pair: string, fromMs: number, toMs: number): Promise<Candle> {
    const firstMinute = Math.ceil(fromMs / MINUTE_MS) * MINUTE_MS;
    const lastMinute = alignDown(toMs, MINUTE_MS);
    if (lastMinute <= firstMinute) {
      const [whole] = await fromPoints(pair, fromMs, toMs);
      return whole ?? mergeCandles([], fromMs, toMs);
    }
    const [head, minutes, tail] = await Promise.all([
      fromPoints(pair, fromMs, firstMinute),
      history.candles(pair, firstMinute, lastMinute, MINUTE_MS),
      fromPoints(pair, lastMinute, toMs),
    ]);
    return mergeCandles([...head, ...minutes, ...tail], fromMs, toMs);
  }

  /** Candles of `interval` that closed within [startMs, endMs) (aligned), every one present. */
  async function closedCandles(pair: string, interval: CandleInterval, startMs: number, endMs: number) {
    if (endMs <= startMs) return [];
    const length = CANDLE_INTERVALS[interval];
    if (length >= MINUTE_MS) return history.candles(pair, startMs, endMs, length);
    const points = await history.points(pair, startMs, endMs);
    return candlesFromPoints(points, startMs, endMs, length, rules);
  }

  return {
    spanCandle,

    /**
     * Candles of `interval` over [startMs, endMs) (aligned to it). The candle holding `now` is open: it
     * runs to `now` (no price is in effect in the future); later ones are not asked for.
     */
    async candles(
      pair: string,
      interval: CandleInterval,
      startMs: number,
      endMs: number,
      now: number,
    ): Promise<CandleAnswer[]> {
      const length = CANDLE_INTERVALS[interval];
      const closedEnd = Math.min(endMs, alignDown(now, length));
      const openEnd = Math.min(endMs, closedEnd + length);
      const [closed, open, newest] = await Promise.all([
        closedCandles(pair, interval, startMs, closedEnd),
        openEnd > closedEnd && now > closedEnd ? spanCandle(pair, closedEnd, now) : undefined,
        history.newest(pair),
      ]);
      const final = (c: Candle) => newest !== undefined && c.endMs <= newest;
      const answers: CandleAnswer[] = closed.map((candle) => ({ candle, open: false, final: final(candle) }));
      if (open !== undefined) answers.push({ candle: open, open: true, final: false });
      return answers;
    },
  };
}

export type HistoryQueries = ReturnType<typeof createHistoryQueries>;
