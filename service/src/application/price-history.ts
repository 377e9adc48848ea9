import type { Candle } from '../domain/history/candles';
import type { HistoryPoint, PricePoint } from '../domain/history/price-point';

/** `duplicate`: a point with this time (or a later one) is already stored, e.g. by another replica. */
export const APPEND_RESULTS = ['written', 'duplicate'] as const;
export type AppendResult = (typeof APPEND_RESULTS)[number];

/**
 * The store of a pair's published prices. Implementations: in memory (bounded by age, per process) and Redis
 * Streams (shared by replicas). Unlike the L2 cache, methods reject when the store cannot be reached: the
 * recorder keeps the point and retries, a query answers that history is unavailable.
 */
export interface PriceHistory {
  /**
   * Appends a point after the last one. Points are stored once: a point at or before the last stored time is
   * a `duplicate`. Appending the first point of a minute closes the minutes before it (minute candles).
   */
  append(pair: string, point: HistoryPoint): Promise<AppendResult>;
  /** The price in effect at `t` (within the fine-point retention), with the sources that made it. */
  pointAt(pair: string, t: number): Promise<PricePoint | undefined>;
  /** Points in [fromMs, toMs), preceded by the last point before fromMs (the price carried in), if any. */
  points(pair: string, fromMs: number, toMs: number): Promise<HistoryPoint[]>;
  /**
   * Candles of `intervalMs` (a whole number of minutes, aligned) over [fromMs, toMs): from the stored minute
   * candles, and from the points for the minutes still open. Every interval present, gaps included.
   */
  candles(pair: string, fromMs: number, toMs: number, intervalMs: number): Promise<Candle[]>;
  /** Time of the oldest point kept, undefined when none. */
  oldest(pair: string): Promise<number | undefined>;
  /**
   * Time of the newest point kept, undefined when none. Points are appended in time order only, so nothing
   * at or before it changes any more: what an answer about earlier time may promise (immutable).
   */
  newest(pair: string): Promise<number | undefined>;
  close(): Promise<void>;
}
