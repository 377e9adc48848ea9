import type { AppendResult, PriceHistory } from '../../application/price-history';
import { candlesFromPoints, type Candle } from '../../domain/history/candles';
import { regroupCandles } from '../../domain/history/candles';
import {
  assembleCandles,
  HOUR_MS,
  hourPlan,
  hoursFromMinutes,
  isWorthStoring,
  minutesClosedBy,
  MINUTE_MS,
  openFrom,
} from '../../domain/history/minute-candles';
import { pointInEffect, type HistoryPoint, type InEffectRules } from '../../domain/history/price-point';
import { decodePoint, encodePoint } from './history-codec';

export interface HistoryRetention {
  /** Fine points (with their sources) are kept this long behind the newest point. */
  readonly pointsMs: number;
  /** Minute candles are kept this long. */
  readonly minutesMs: number;
}

/** A time-ordered list trimmed from the front by age without shifting on every append. */
class AgedList<T extends { readonly t: number } | { readonly startMs: number }> {
  private items: T[] = [];
  private head = 0;
  constructor(private readonly timeOf: (item: T) => number) {}

  get view(): readonly T[] {
    this.compact();
    return this.items;
  }
  private compact(): void {
    if (this.head === 0) return;
    this.items = this.items.slice(this.head);
    this.head = 0;
  }
  get last(): T | undefined {
    return this.items.length > this.head ? this.items[this.items.length - 1] : undefined;
  }
  get first(): T | undefined {
    return this.items[this.head];
  }
  get length(): number {
    return this.items.length - this.head;
  }
  push(item: T, cutoff: number): void {
    this.items.push(item);
    while (this.head < this.items.length && this.timeOf(this.items[this.head]!) < cutoff) this.head++;
    // Compact once the dropped front is as long as what is kept: amortised O(1) per append.
    if (this.head > 1024 && this.head * 2 > this.items.length) this.compact();
  }
  /** Items with time in [from, to), preceded by the last one before `from` when `withPrevious`. */
  range(from: number, to: number, withPrevious: boolean): T[] {
    const items = this.view;
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.timeOf(items[mid]!) < from) lo = mid + 1;
      else hi = mid;
    }
    let end = lo;
    while (end < items.length && this.timeOf(items[end]!) < to) end++;
    return items.slice(withPrevious && lo > 0 ? lo - 1 : lo, end);
  }
}

/**
 * A point as kept: its time and its encoded value (the Redis store's encoding), one string instead of an
 * object per source: measured at about a third of the memory (scripts/history/measure-memory.ts).
 */
interface StoredPoint {
  readonly t: number;
  readonly text: string;
}

const decodeAll = (stored: readonly StoredPoint[]): HistoryPoint[] =>
  stored.flatMap((s) => {
    const point = decodePoint(s.t, s.text);
    return point === undefined ? [] : [point];
  });

interface PairHistory {
  readonly points: AgedList<StoredPoint>;
  readonly minutes: AgedList<Candle>;
  readonly hours: AgedList<Candle>;
}

/**
 * History in this process's memory, bounded by age: the store without Redis. Lost on a restart. Points of
 * one pair are kept in time order; appending the first point of a minute closes the minutes before it.
 */
export function createMemoryHistory(retention: HistoryRetention, rules: InEffectRules): PriceHistory {
  /** Candles of whole minutes from the stored minutes and, for the minutes still open, the points. */
  function minuteCandles(history: PairHistory, fromMs: number, toMs: number, intervalMs: number): Candle[] {
    const { points, minutes } = history;
    const last = points.last;
    const openFromMs = last === undefined ? toMs : openFrom(last.t, minutes.last?.startMs);
    return assembleCandles({
      storedMinutes: minutes.range(fromMs, Math.min(toMs, openFromMs), false),
      openFromMs,
      openPoints: last === undefined ? [] : decodeAll(points.range(openFromMs, toMs, true)),
      fromMs,
      toMs,
      intervalMs,
      rules,
    });
  }

  const pairs = new Map<string, PairHistory>();
  const of = (pair: string): PairHistory => {
    let history = pairs.get(pair);
    if (history === undefined) {
      history = {
        points: new AgedList<StoredPoint>((p) => p.t),
        minutes: new AgedList<Candle>((c) => c.startMs),
        hours: new AgedList<Candle>((c) => c.startMs),
      };
      pairs.set(pair, history);
    }
    return history;
  };

  return {
    async append(pair, point): Promise<AppendResult> {
      const { points, minutes, hours } = of(pair);
      const previous = points.last;
      if (previous !== undefined && point.t <= previous.t) return 'duplicate';
      points.push({ t: point.t, text: encodePoint(point) }, point.t - retention.pointsMs);
      const closed = previous === undefined ? undefined : minutesClosedBy(previous.t, point.t, rules);
      if (closed !== undefined) {
        const around = decodeAll(points.range(closed.fromMs, closed.toMs, true));
        for (const candle of candlesFromPoints(around, closed.fromMs, closed.toMs, MINUTE_MS, rules)) {
          if (isWorthStoring(candle)) minutes.push(candle, candle.startMs - retention.minutesMs);
        }
      }
      const closedHours =
        previous === undefined ? undefined : minutesClosedBy(previous.t, point.t, rules, HOUR_MS);
      if (closedHours !== undefined) {
        const { fromMs, toMs } = closedHours;
        for (const hour of hoursFromMinutes(minutes.range(fromMs, toMs, false), fromMs, toMs)) {
          hours.push(hour, hour.startMs - retention.minutesMs);
        }
      }
      return 'written';
    },

    async pointAt(pair, t) {
      return pointInEffect(decodeAll(of(pair).points.range(t + 1, t + 1, true)), t, rules);
    },

    async points(pair, fromMs, toMs) {
      return decodeAll(of(pair).points.range(fromMs, toMs, true));
    },

    async candles(pair, fromMs, toMs, intervalMs) {
      const history = of(pair);
      const last = history.points.last;
      if (intervalMs % HOUR_MS !== 0 || last === undefined)
        return minuteCandles(history, fromMs, toMs, intervalMs);
      const plan = hourPlan(last.t, history.hours.last?.startMs, fromMs, toMs, rules);
      const stored = history.hours.range(fromMs, plan.storedToMs, false);
      const open =
        plan.minutesToMs > plan.minutesFromMs
          ? minuteCandles(history, plan.minutesFromMs, plan.minutesToMs, MINUTE_MS)
          : [];
      return regroupCandles([...stored, ...open], fromMs, toMs, intervalMs);
    },

    async oldest(pair) {
      return of(pair).points.first?.t;
    },

    async newest(pair) {
      return of(pair).points.last?.t;
    },

    async close() {
      pairs.clear();
    },
  };
}
