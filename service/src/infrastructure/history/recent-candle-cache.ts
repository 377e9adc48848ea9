import type { Candle } from '../../domain/history/candles';
import { alignDown } from '../../domain/history/intervals';

/**
 * The stored candles of the recent past, kept decoded in the process. A stored candle never changes, and a
 * stream only takes ids above its last, so what was read once stays true and what is new is exactly what
 * lies after the last candle read: each query asks Redis for that (usually nothing, or a minute or two)
 * instead of the whole range. 24 h of 1 m candles is 1,440 entries to fetch, parse and check otherwise,
 * most of such a request's time (docs/performance.md, "Price history").
 * Ranges that start before the window (now − spanMs) are not served from here: the caller reads Redis.
 */
export interface RecentCandleCache {
  /**
   * The stored candles starting at or after fromMs, and the start of the last one stored (as of this read:
   * undefined when none is stored in the window); undefined when fromMs is before the window.
   */
  read(pair: string, fromMs: number): Promise<RecentCandles | undefined>;
}

export interface RecentCandles {
  readonly candles: readonly Candle[];
  readonly lastStartMs: number | undefined;
}

interface PairWindow {
  /** Every stored candle from this start on has been read. */
  firstMs: number;
  candles: Candle[];
  /** The read of what is new, shared by the queries that come while it runs. */
  refreshing: Promise<void> | undefined;
}

export function createRecentCandleCache(deps: {
  readonly lengthMs: number;
  readonly spanMs: number;
  /** Every stored candle with a start at or after fromMs, in order. */
  readonly readFrom: (pair: string, fromMs: number) => Promise<Candle[]>;
  readonly clock?: () => number;
}): RecentCandleCache {
  const { lengthMs, spanMs, readFrom } = deps;
  const clock = deps.clock ?? Date.now;
  const windows = new Map<string, PairWindow>();

  async function refresh(pair: string, window: PairWindow, windowStart: number): Promise<void> {
    const last = window.candles.at(-1);
    const fresh = await readFrom(pair, last === undefined ? window.firstMs : last.startMs + 1);
    // Refreshes of a pair never overlap (they are shared), so these come after the last one read.
    window.candles.push(...fresh);
    const keepFrom = lowerBound(window.candles, windowStart);
    if (keepFrom > 0) window.candles.splice(0, keepFrom);
    window.firstMs = Math.max(window.firstMs, windowStart);
  }

  return {
    async read(pair, fromMs) {
      const windowStart = alignDown(clock() - spanMs, lengthMs);
      let window = windows.get(pair);
      if (fromMs < Math.max(windowStart, window?.firstMs ?? windowStart)) return undefined;
      if (window === undefined) {
        window = { firstMs: windowStart, candles: [], refreshing: undefined };
        windows.set(pair, window);
      }
      const current = window;
      current.refreshing ??= refresh(pair, current, windowStart).finally(() => {
        current.refreshing = undefined;
      });
      await current.refreshing;
      const { candles } = current;
      return { candles: candles.slice(lowerBound(candles, fromMs)), lastStartMs: candles.at(-1)?.startMs };
    },
  };
}

/** The index of the first candle starting at or after t (candles in order of start). */
function lowerBound(candles: readonly Candle[], t: number): number {
  let low = 0;
  let high = candles.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((candles[middle] as Candle).startMs < t) low = middle + 1;
    else high = middle;
  }
  return low;
}
