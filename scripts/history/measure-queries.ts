/**
 * Server-side latency of the history routes over 24 h of history (one point a second, six sources each):
 * `at` an instant, and 24 h of 1m candles (1,440, through the minute candles), through the real handlers
 * and Express on a loopback server, the in-memory store and the Redis store. Server side: from the
 * handler's start to the response written (a client adds its own loopback time). Usage:
 * `npx tsx scripts/history/measure-queries.ts [requests]` (needs redis-server; starts its own).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHistoryQueries } from '../../service/src/application/history-queries';
import type { PriceHistory } from '../../service/src/application/price-history';
import type { HistoryPoint } from '../../service/src/domain/history/price-point';
import { createMemoryHistory } from '../../service/src/infrastructure/history/memory-history';
import { createRedisHistory } from '../../service/src/infrastructure/history/redis-history';
import { createLogger } from '../../service/src/observability/logger';
import { createRequestTracer } from '../../service/src/observability/request-tracing';
import { createExpressApp } from '../../service/src/presentation/express-app';
import { createHistoryRoutes } from '../../service/src/presentation/history-routes';
import type { RouteHandler } from '../../service/src/presentation/routes';
import { startRedis } from '../../service/test/helpers/redis';
import { stubRoutes } from '../../service/test/fixtures/route-table';

const REQUESTS = Number(process.argv[2] ?? 300);
const DAY_MS = 86_400_000;
const EXCHANGES = ['binance', 'coinbase', 'kraken', 'okx', 'bybit', 'kucoin'];
/** The clock of the routes: the end of the day of history, so `to` = now and nothing is in the future. */
const END = Date.UTC(2026, 0, 2);
const START = END - DAY_MS;
const rules = { maxInEffectMs: 3_000 };
const retention = { pointsMs: DAY_MS, minutesMs: 30 * DAY_MS };

function point(i: number): HistoryPoint {
  const cents = 352_143 + ((i * 7919) % 400) - 200;
  const mid = (offset: number) => ((cents + offset) / 100).toFixed(2);
  return {
    t: START + i * 1_000,
    price: mid(0),
    status: 'ok',
    sources: EXCHANGES.map((exchange, k) => ({ exchange, state: 'used', mid: mid(k - 3) })),
  };
}

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
  const routes = createHistoryRoutes({
    history,
    queries: createHistoryQueries(history, rules),
    symbols: new Map([['eth-usdt', 'ETH/USDT']]),
    pointsRetentionMs: retention.pointsMs,
    retryAfterSeconds: 1,
    common: [],
    logger: createLogger({ level: 'error', service: 'measure', silent: true }),
    clock: () => END,
  });
  const app = createExpressApp(
    stubRoutes({ priceAt: timed('at', routes.at), candles: timed('candles', routes.candles) }),
    {
      pairs: new Set(['eth-usdt']),
      observerFor: () => () => undefined,
      tracer: createRequestTracer(0, () => undefined),
      logger: createLogger({ level: 'error', service: 'measure', silent: true }),
      common: [],
      cors: undefined,
    },
  );
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/prices/eth-usdt`;
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
    await new Promise((resolve) => server.close(resolve));
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
  const redis = await startRedis();
  const history = createRedisHistory({
    topology: { kind: 'single', url: redis.url },
    keyPrefix: 'measure:',
    commandTimeoutMs: 5_000,
    retention,
    rules,
  });
  try {
    await new Promise((resolve) => setTimeout(resolve, 200));
    await fill(history);
    console.log(`Redis, 24 h of points:      ${JSON.stringify(await measure(history))}`);
  } finally {
    await history.close();
    await redis.stop();
  }
  console.log(`${REQUESTS} requests of each, one at a time; the first tenth left out (warm-up)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
