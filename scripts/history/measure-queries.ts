/**
 * Server-side latency of the history routes over 24 h of history (one point a second, six sources each):
 * `at` an instant, and 24 h of 1m candles (1,440, through the minute candles), through the real handlers
 * and Express on a loopback server, the in-memory store and the Redis store. Server side: from the
 * handler's start to the response written (a client adds its own loopback time). Usage:
 * `npx tsx scripts/history/measure-queries.ts [requests]` (needs redis-server; starts its own).
 */
import type { PriceHistory } from '../../service/src/application/price-history';
import type { HistoryPoint } from '../../service/src/domain/history/price-point';
import { createMemoryHistory } from '../../service/src/infrastructure/history/memory-history';
import type { RouteHandler } from '../../service/src/presentation/routes';
import { startHistoryApp } from '../../service/test/fixtures/history-app';
import { samplePoint, withRedisHistory } from './history-fixtures';

const REQUESTS = Number(process.argv[2] ?? 300);
const DAY_MS = 86_400_000;
/** The clock of the routes: the end of the day of history, so `to` = now and nothing is in the future. */
const END = Date.UTC(2026, 0, 2);
const START = END - DAY_MS;
const rules = { maxInEffectMs: 3_000 };
const retention = { pointsMs: DAY_MS, minutesMs: 30 * DAY_MS };

const point = (i: number): HistoryPoint => samplePoint(START, i);

async function fill(history: PriceHistory): Promise<void> {
  for (let i = 0; i < DAY_MS / 1_000; i++) await history.append('eth-usdt', point(i));
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/** Runs the routes over `history` and times REQUESTS of each path, one after another. */
async function measure(history: PriceHistory): Promise<Record<string, string>> {
  const timings = new Map<string, number[]>();
  const timed =
    (name: string, handler: RouteHandler): RouteHandler =>
    async (req, res, pair) => {
      const started = performance.now();
      const status = await handler(req, res, pair);
      const list = timings.get(name) ?? [];
      list.push(performance.now() - started);
      timings.set(name, list);
      return status;
    };
  const app = await startHistoryApp({
    history,
    rules,
    pointsRetentionMs: retention.pointsMs,
    clock: () => END,
    wrap: timed,
  });
  const { base } = app;
  try {
    for (let i = 0; i < REQUESTS; i++) {
      // instants spread over the day
      const at = await fetch(`${base}/at/${START + ((i * 7_919_000) % DAY_MS)}`);
      if (at.status !== 200) throw new Error(`at: ${at.status} ${await at.text()}`);
      await at.arrayBuffer();
      const candles = await fetch(`${base}/candles?interval=1m&from=${START}&to=${END}`);
      const body = (await candles.json()) as { candles: unknown[] };
      if (body.candles.length !== 1_440) throw new Error(`candles: ${body.candles.length}`);
    }
  } finally {
    await app.close();
  }
  const out: Record<string, string> = {};
  for (const [name, list] of timings) {
    const sorted = list.slice(Math.floor(list.length / 10)).sort((a, b) => a - b); // the first tenth warms up
    out[name] = `p50 ${quantile(sorted, 0.5).toFixed(2)} ms, p99 ${quantile(sorted, 0.99).toFixed(2)} ms`;
  }
  return out;
}

async function main(): Promise<void> {
  const memory = createMemoryHistory(retention, rules);
  await fill(memory);
  console.log(`in process, 24 h of points: ${JSON.stringify(await measure(memory))}`);
  await withRedisHistory('measure:', { retention, rules }, async (history) => {
    await fill(history);
    console.log(`Redis, 24 h of points:      ${JSON.stringify(await measure(history))}`);
  });
  console.log(`${REQUESTS} requests of each, one at a time; the first tenth left out (warm-up)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
