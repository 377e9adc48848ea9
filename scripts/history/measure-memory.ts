/**
 * Measures what price history costs per point: in this process (the in-memory store) and in Redis (the
 * Streams store, `MEMORY USAGE` of the keys), for a realistic point (six sources with their mids, one a
 * second) and for a minute candle. Usage: `npx tsx scripts/history/measure-memory.ts [points]`
 * (needs redis-server installed; starts its own on a free loopback port).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { PriceHistory } from '../../service/src/application/price-history';
import type { HistoryPoint } from '../../service/src/domain/history/price-point';
import { createMemoryHistory } from '../../service/src/infrastructure/history/memory-history';
import { samplePoint, withRedisHistory } from './history-fixtures';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const COUNT = Number(process.argv[2] ?? 20_000);
const DAY_POINTS = 86_400; // one point a second, the default retention of 24 h
const START = Date.UTC(2026, 0, 1);
const rules = { maxInEffectMs: 60_000 };
const retention = { pointsMs: 86_400_000, minutesMs: 30 * 86_400_000 };

const point = (i: number): HistoryPoint => samplePoint(START, i);

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function measureProcess(): Promise<{ perPoint: number; perMinute: number }> {
  const history = createMemoryHistory(retention, rules);
  const before = heapUsed();
  for (let i = 0; i < COUNT; i++) await history.append('eth-usdt', point(i));
  const after = heapUsed();
  const minutes = Math.floor(COUNT / 60);
  // a minute candle is a handful of short strings and numbers: measured on its own
  const candles = await history.candles('eth-usdt', START, START + minutes * 60_000, 60_000);
  const beforeCandles = heapUsed();
  const copies = Array.from({ length: 50 }, () =>
    candles.map((c) => JSON.parse(JSON.stringify(c)) as unknown),
  );
  const afterCandles = heapUsed();
  void copies.length;
  return {
    perPoint: (after - before) / COUNT,
    perMinute: (afterCandles - beforeCandles) / (50 * candles.length),
  };
}

async function measureRedis(): Promise<{ perPoint: number; perMinute: number; minutes: number }> {
  return withRedisHistory('price-service:', { retention, rules }, async (history, admin) => {
    for (let i = 0; i < COUNT; i++) await history.append('eth-usdt', point(i));
    const pointsBytes =
      (await admin.memory('USAGE', 'price-service:{eth-usdt}:history:points', 'SAMPLES', 0)) ?? 0;
    const minutesBytes =
      (await admin.memory('USAGE', 'price-service:{eth-usdt}:history:minutes', 'SAMPLES', 0)) ?? 0;
    const minutes = await admin.xlen('price-service:{eth-usdt}:history:minutes');
    return { perPoint: pointsBytes / COUNT, perMinute: minutesBytes / minutes, minutes };
  });
}

const MONTH_MS = 30 * 86_400_000;

/** One point a minute for 30 days: every minute closed, as 30 days of history would leave them. */
async function fillMonth(history: PriceHistory): Promise<void> {
  for (let m = 0; m <= 30 * 1_440; m++)
    await history.append('eth-usdt', { ...point(m), t: START + m * 60_000 });
}

/** Median ms of a 30-day range of 1h candles (720 candles). */
async function timeMonthOfHours(history: PriceHistory): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < 7; i++) {
    const begin = performance.now();
    const candles = await history.candles('eth-usdt', START, START + MONTH_MS, 3_600_000);
    runs.push(performance.now() - begin);
    if (candles.length !== 720) throw new Error(`expected 720 candles, got ${candles.length}`);
  }
  return runs.sort((a, b) => a - b)[3]!;
}

async function measureMonth(): Promise<{
  memoryMs: number;
  redisMs: number;
  redisBytes: number;
  hourEntries: number;
}> {
  const memory = createMemoryHistory(retention, rules);
  await fillMonth(memory);
  const memoryMs = await timeMonthOfHours(memory);
  return withRedisHistory('month:', { retention, rules }, async (history, admin) => {
    await fillMonth(history);
    const redisMs = await timeMonthOfHours(history);
    // what the request reads: the hour candles, then the open hour's minutes and the open minute's points
    const entries = await admin.xrange('month:{eth-usdt}:history:hours', '-', '+');
    const redisBytes = entries.reduce((n, [id, fields]) => n + id.length + fields.join('').length, 0);
    return { memoryMs, redisMs, redisBytes, hourEntries: entries.length };
  });
}

async function main(): Promise<void> {
  const inProcess = await measureProcess();
  const inRedis = await measureRedis();
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  const minutes30d = 30 * 1_440;
  console.log(`points measured: ${COUNT} (six sources each), minute candles: ${inRedis.minutes}`);
  console.log(
    `in process: ${inProcess.perPoint.toFixed(0)} B/point, ${inProcess.perMinute.toFixed(0)} B/minute candle; ` +
      `defaults (24 h of points + 30 d of minutes) per pair: ${mb(inProcess.perPoint * DAY_POINTS + inProcess.perMinute * minutes30d)}`,
  );
  console.log(
    `in Redis:   ${inRedis.perPoint.toFixed(0)} B/point, ${inRedis.perMinute.toFixed(0)} B/minute candle; ` +
      `defaults per pair: ${mb(inRedis.perPoint * DAY_POINTS + inRedis.perMinute * minutes30d)}`,
  );
  const month = await measureMonth();
  console.log(
    `30 days of 1h candles (720): in process ${month.memoryMs.toFixed(1)} ms, Redis ${month.redisMs.toFixed(1)} ms ` +
      `(median of 7), reading ${month.hourEntries} hour candles (${(month.redisBytes / 1024).toFixed(0)} KiB) ` +
      `plus the open hour's minutes and the open minute's points`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
