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
import { closeRedisClient, createRedisClient, pairTag, type RedisTopology } from '../redis/redis-client';
import { decodeCandle, decodePoint, encodeCandle, encodePoint, entryTime } from './history-codec';
import type { HistoryRetention } from './memory-history';
import { createRecentCandleCache } from './recent-candle-cache';

export interface RedisHistoryOptions {
  readonly topology: RedisTopology;
  readonly keyPrefix: string;
  readonly commandTimeoutMs: number;
  readonly retention: HistoryRetention;
  readonly rules: InEffectRules;
}

type Entry = [id: string, fields: string[]];

/** How far back each process keeps the stored minute candles decoded: a day of 1 m candles, and a margin. */
const RECENT_MINUTES_SPAN_MS = 25 * HOUR_MS;

/** Redis refuses an XADD whose id is not above the stream's last: the point is already stored. */
const NOT_ABOVE_TOP = /equal or smaller than the target stream top item/;

/**
 * History in Redis Streams, shared by every replica and kept across restarts. Per pair, under the pair's
 * hash tag (one Cluster slot): `{pair}:history:points`, one entry per point with the point's time as its id
 * (`<ms>-0`), and `{pair}:history:minutes`, one entry per closed minute with the minute's start as its id.
 * An id must be above the stream's last, so replicas appending the same round store it once: the second
 * XADD is refused and reported as a duplicate. Both streams are trimmed by age with MINID.
 */
export function createRedisHistory(options: RedisHistoryOptions): PriceHistory {
  const { retention, rules } = options;
  const client = createRedisClient({
    topology: options.topology,
    commandTimeoutMs: options.commandTimeoutMs,
  });
  const pointsKey = (pair: string) => `${options.keyPrefix}${pairTag(pair)}:history:points`;
  const minutesKey = (pair: string) => `${options.keyPrefix}${pairTag(pair)}:history:minutes`;
  const hoursKey = (pair: string) => `${options.keyPrefix}${pairTag(pair)}:history:hours`;

  async function readCandles(key: string, lengthMs: number, fromMs: number, toMs: number): Promise<Candle[]> {
    if (toMs <= fromMs) return [];
    const last = toMs === Infinity ? '+' : String(toMs - 1);
    const entries = (await client.xrange(key, String(fromMs), last)) as Entry[];
    return entries.flatMap(([id, fields]): Candle[] => {
      const startMs = entryTime(id);
      const candle =
        startMs === undefined || fields[1] === undefined
          ? undefined
          : decodeCandle(startMs, lengthMs, fields[1]);
      return candle === undefined ? [] : [candle];
    });
  }

  async function add(key: string, t: number, cutoffMs: number, value: string): Promise<AppendResult> {
    try {
      await client.xadd(key, 'MINID', '~', String(Math.max(0, cutoffMs)), `${t}-0`, 'v', value);
      return 'written';
    } catch (error) {
      if (NOT_ABOVE_TOP.test((error as Error).message)) return 'duplicate';
      throw error;
    }
  }

  const decodePoints = (entries: Entry[]): HistoryPoint[] =>
    entries.flatMap(([id, fields]) => {
      const t = entryTime(id);
      const point = t === undefined || fields[1] === undefined ? undefined : decodePoint(t, fields[1]);
      return point === undefined ? [] : [point];
    });

  /** Points in [fromMs, toMs) (inclusive id bounds), preceded by the last point before fromMs. */
  async function readPoints(pair: string, fromMs: number, toMs: number): Promise<HistoryPoint[]> {
    const key = pointsKey(pair);
    const [before, inside] = await Promise.all([
      fromMs > 0 ? client.xrevrange(key, String(fromMs - 1), '-', 'COUNT', 1) : Promise.resolve([]),
      toMs > fromMs ? client.xrange(key, String(fromMs), String(toMs - 1)) : Promise.resolve([]),
    ]);
    return decodePoints([...(before as Entry[]), ...(inside as Entry[])]);
  }

  async function lastEntry(key: string, atOrBefore: string): Promise<Entry | undefined> {
    const [entry] = (await client.xrevrange(key, atOrBefore, '-', 'COUNT', 1)) as Entry[];
    return entry;
  }

  /** The time of a stream's last entry (a point's, or a candle's start). */
  async function lastStart(key: string): Promise<number | undefined> {
    const entry = await lastEntry(key, '+');
    return entry === undefined ? undefined : entryTime(entry[0]);
  }

  const recentMinutes = createRecentCandleCache({
    lengthMs: MINUTE_MS,
    spanMs: Math.min(RECENT_MINUTES_SPAN_MS, retention.minutesMs),
    readFrom: (pair, fromMs) => readCandles(minutesKey(pair), MINUTE_MS, fromMs, Infinity),
  });

  /** After a point is stored: close the minutes it ends, from what Redis holds (whoever wrote it). */
  async function closeMinutes(pair: string, t: number): Promise<void> {
    const previous = await lastEntry(pointsKey(pair), String(t - 1));
    const previousT = previous === undefined ? undefined : entryTime(previous[0]);
    const closed = previousT === undefined ? undefined : minutesClosedBy(previousT, t, rules);
    if (closed === undefined || previousT === undefined) return;
    const around = await readPoints(pair, closed.fromMs, closed.toMs);
    for (const candle of candlesFromPoints(around, closed.fromMs, closed.toMs, MINUTE_MS, rules)) {
      if (!isWorthStoring(candle)) continue;
      // A replica that closed it first wins; the same points give the same candle.
      await add(minutesKey(pair), candle.startMs, candle.startMs - retention.minutesMs, encodeCandle(candle));
    }
    const hours = minutesClosedBy(previousT, t, rules, HOUR_MS);
    if (hours === undefined) return;
    const minutes = await readCandles(minutesKey(pair), MINUTE_MS, hours.fromMs, hours.toMs);
    for (const hour of hoursFromMinutes(minutes, hours.fromMs, hours.toMs)) {
      await add(hoursKey(pair), hour.startMs, hour.startMs - retention.minutesMs, encodeCandle(hour));
    }
  }

  /** Candles of whole minutes from the stored minutes and, for the minutes still open, the points. */
  async function minuteCandles(
    pair: string,
    fromMs: number,
    toMs: number,
    intervalMs: number,
    lastT: number,
  ) {
    // The recent past from the process's own copy (what is new since it was last read is fetched first):
    // its last candle is then the last stored, so the open stretch starts right after what it holds.
    const recent = await recentMinutes.read(pair, fromMs);
    const lastMinute = recent?.lastStartMs ?? (await lastStart(minutesKey(pair)));
    const openFromMs = openFrom(lastT, lastMinute);
    const [storedMinutes, openPoints] = await Promise.all([
      recent?.candles ?? readCandles(minutesKey(pair), MINUTE_MS, fromMs, Math.min(toMs, openFromMs)),
      openFromMs >= toMs ? Promise.resolve([]) : readPoints(pair, openFromMs, toMs),
    ]);
    return assembleCandles({ storedMinutes, openFromMs, openPoints, fromMs, toMs, intervalMs, rules });
  }

  return {
    async append(pair, point) {
      const result = await add(pointsKey(pair), point.t, point.t - retention.pointsMs, encodePoint(point));
      // On a duplicate too: the XADD may be ours, run by Redis after our client gave up on it (a timeout),
      // and its retry is refused; closing is idempotent (a minute already stored is refused in turn).
      await closeMinutes(pair, point.t);
      return result;
    },

    async pointAt(pair, t) {
      const entry = await lastEntry(pointsKey(pair), String(t));
      return pointInEffect(entry === undefined ? [] : decodePoints([entry]), t, rules);
    },

    points: readPoints,

    async candles(pair, fromMs, toMs, intervalMs) {
      const lastT = await lastStart(pointsKey(pair));
      if (lastT === undefined) return regroupCandles([], fromMs, toMs, intervalMs);
      if (intervalMs % HOUR_MS !== 0) return minuteCandles(pair, fromMs, toMs, intervalMs, lastT);
      const plan = hourPlan(lastT, await lastStart(hoursKey(pair)), fromMs, toMs, rules);
      const [stored, open] = await Promise.all([
        readCandles(hoursKey(pair), HOUR_MS, fromMs, plan.storedToMs),
        plan.minutesToMs > plan.minutesFromMs
          ? minuteCandles(pair, plan.minutesFromMs, plan.minutesToMs, MINUTE_MS, lastT)
          : Promise.resolve([]),
      ]);
      return regroupCandles([...stored, ...open], fromMs, toMs, intervalMs);
    },

    async oldest(pair) {
      const [entry] = (await client.xrange(pointsKey(pair), '-', '+', 'COUNT', 1)) as Entry[];
      return entry === undefined ? undefined : entryTime(entry[0]);
    },

    newest: (pair) => lastStart(pointsKey(pair)),

    async close() {
      await closeRedisClient(client);
    },
  };
}
