import type { Candle } from '../../../src/domain/history/candles';
import { createRecentCandleCache } from '../../../src/infrastructure/history/recent-candle-cache';

const MINUTE = 60_000;
const candle = (startMs: number): Candle => ({
  startMs,
  endMs: startMs + MINUTE,
  open: '1',
  high: '1',
  low: '1',
  close: '1',
  weightedSum: String(MINUTE),
  coveredMs: MINUTE,
  freshMs: MINUTE,
  degradedMs: 0,
  staleMs: 0,
  points: 60,
});

/** A stream of stored minutes (as Redis holds them) and the reads the cache makes of it. */
function storedMinutes(starts: number[]) {
  const stored = starts.map(candle);
  const reads: number[] = [];
  return {
    stored,
    reads,
    readFrom: async (_pair: string, fromMs: number) => {
      reads.push(fromMs);
      await Promise.resolve();
      return stored.filter((c) => c.startMs >= fromMs);
    },
  };
}

const NOW = 1_000 * MINUTE;
const starts = (list: readonly Candle[]) => list.map((c) => c.startMs / MINUTE);

describe('recent candle cache', () => {
  test('When asked again, then only what lies after the last candle read is fetched, and the answer is whole', async () => {
    const redis = storedMinutes([990, 991, 992].map((m) => m * MINUTE));
    let now = NOW;
    const cache = createRecentCandleCache({
      lengthMs: MINUTE,
      spanMs: 10 * MINUTE,
      readFrom: redis.readFrom,
      clock: () => now,
    });
    expect(starts((await cache.read('eth-usdt', 991 * MINUTE))!.candles)).toEqual([991, 992]);
    redis.stored.push(candle(993 * MINUTE), candle(995 * MINUTE));
    now += 5 * MINUTE;
    const second = await cache.read('eth-usdt', 990 * MINUTE + 5 * MINUTE);
    expect(starts(second!.candles)).toEqual([995]);
    expect(second!.lastStartMs).toBe(995 * MINUTE);
    // The first read from the window's start, the second from just after the last candle it held.
    expect(redis.reads).toEqual([990 * MINUTE, 992 * MINUTE + 1]);
    // Older than the window now: dropped, and not served from here.
    expect(await cache.read('eth-usdt', 991 * MINUTE)).toBeUndefined();
  });

  test('When queries come while a read runs, then they share it', async () => {
    const redis = storedMinutes([995 * MINUTE]);
    const cache = createRecentCandleCache({
      lengthMs: MINUTE,
      spanMs: 10 * MINUTE,
      readFrom: redis.readFrom,
      clock: () => NOW,
    });
    const answers = await Promise.all([1, 2, 3].map(() => cache.read('eth-usdt', 990 * MINUTE)));
    expect(answers.map((a) => starts(a!.candles))).toEqual([[995], [995], [995]]);
    expect(redis.reads).toHaveLength(1);
  });

  test('When nothing is stored in the window, then the last start is unknown, and a failed read is the query’s failure', async () => {
    let fail = false;
    const cache = createRecentCandleCache({
      lengthMs: MINUTE,
      spanMs: 10 * MINUTE,
      clock: () => NOW,
      readFrom: async () => {
        if (fail) throw new Error('Redis is down');
        return [];
      },
    });
    expect(await cache.read('eth-usdt', 995 * MINUTE)).toEqual({ candles: [], lastStartMs: undefined });
    fail = true;
    await expect(cache.read('eth-usdt', 995 * MINUTE)).rejects.toThrow('Redis is down');
    fail = false;
    expect(await cache.read('eth-usdt', 995 * MINUTE)).toEqual({ candles: [], lastStartMs: undefined });
  });

  test('When pairs are asked, then each has its own window', async () => {
    const eth = storedMinutes([995 * MINUTE]);
    const cache = createRecentCandleCache({
      lengthMs: MINUTE,
      spanMs: 10 * MINUTE,
      clock: () => NOW,
      readFrom: (pair, fromMs) => (pair === 'eth-usdt' ? eth.readFrom(pair, fromMs) : Promise.resolve([])),
    });
    expect(starts((await cache.read('btc-usdt', 990 * MINUTE))!.candles)).toEqual([]);
    expect(starts((await cache.read('eth-usdt', 990 * MINUTE))!.candles)).toEqual([995]);
  });
});
