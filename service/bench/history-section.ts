/**
 * make bench's price history section, on the bench's own service (Redis-backed, 2 workers):
 * - before the service starts, its Redis is filled with 24 h of history for eth-usdt (one point a second,
 *   six sources each, through the service's own Redis store, so the minute and hour candles are there too);
 *   the service then records its own points after them;
 * - `at` an instant spread over the day and 24 h of 1m candles (1,440, from the stored minute candles) at a
 *   fixed rate each, open loop, for BENCH_HISTORY_SECONDS: the server-side p99 per route from the service's
 *   own http_request_duration_seconds (before/after scrapes, interpolated as histogram_quantile does; 5 ms and
 *   25 ms are bucket bounds, so "p99 within the target" is exact), against the targets;
 * - one closed-loop round of each side (service and bare) while the same history load runs: the REST
 *   hot-path ratio with history queried, against the ratio of the main rounds (history written, not read).
 */
import {
  histogramDelta,
  priceRouteHistogram,
  quantile,
  total,
  type Histogram,
} from '../../loadtest/src/server-histogram';
import { samplePoint } from '../../scripts/history/history-fixtures';
import type { PriceHistory } from '../src/application/price-history';
import { createRedisHistory } from '../src/infrastructure/history/redis-history';
import { CANDLES_ROUTE, PRICE_AT_ROUTE } from '../src/presentation/routes';
import { fmt } from './measure';
import type { Target } from './targets';

const DAY_MS = 86_400_000;
const PAIR = 'eth-usdt';
const SECONDS = Number(process.env.BENCH_HISTORY_SECONDS ?? 10);
/** Requests per second of each history route during the measurement. */
const AT_RATE = Number(process.env.BENCH_HISTORY_AT_RATE ?? 50);
const CANDLES_RATE = Number(process.env.BENCH_HISTORY_CANDLES_RATE ?? 5);
/** Closed-loop rounds of each side while the history is queried (the median one is reported). */
const REST_ROUNDS = Number(process.env.BENCH_HISTORY_REST_ROUNDS ?? 3);
/** The targets, server side. */
export const AT_P99_TARGET_MS = 5;
export const CANDLES_P99_TARGET_MS = 25;

export interface Seeded {
  points: number;
  fromMs: number;
  toMs: number;
  seconds: number;
}

/**
 * 24 h of points ending a second ago, written with the service's store and settings (key prefix, the
 * default retentions, MAX_STALENESS as the in-effect limit); run before the service starts, since a stream
 * takes no entry older than its newest.
 */
export async function seedHistory(redisUrl: string, env: Record<string, string> = {}): Promise<Seeded> {
  const started = performance.now();
  const history: PriceHistory = createRedisHistory({
    topology: { kind: 'single', url: redisUrl },
    keyPrefix: env.REDIS_KEY_PREFIX ?? 'price-service:',
    commandTimeoutMs: 5_000,
    retention: { pointsMs: DAY_MS, minutesMs: 30 * DAY_MS },
    rules: { maxInEffectMs: Number(env.MAX_STALENESS ?? 60) * 1000 },
  });
  const toMs = Math.floor(Date.now() / 1000) * 1000 - 1000;
  const fromMs = toMs - DAY_MS + 1000;
  try {
    await new Promise((resolve) => setTimeout(resolve, 200)); // ioredis connects in the background
    for (let i = 0; i < DAY_MS / 1000; i++) await history.append(PAIR, samplePoint(fromMs, i));
  } finally {
    await history.close();
  }
  return { points: DAY_MS / 1000, fromMs, toMs, seconds: (performance.now() - started) / 1000 };
}

interface RouteFigures {
  requests: number;
  /** Answers other than 200 and errors, by status or error name. */
  failed: Record<string, number>;
  /** Server side, from the service's histogram. */
  p50Ms: number;
  p99Ms: number;
  /** Share of the window's requests within the target's bucket. */
  withinTarget: number;
}

export interface HistoryFigures {
  seeded: Seeded;
  seconds: number;
  rates: { at: number; candles: number };
  alone: { at: RouteFigures; candles: RouteFigures };
  /** The same load while both sides run a closed-loop round (reported, not held). */
  underRest: { at: RouteFigures; candles: RouteFigures };
  rest: { with: number; without: number; serviceRps: number; bareRps: number };
}

/** Fires `rate` requests a second at `url()` without waiting for answers, until `stop()`; counts failures. */
function fixedRate(rate: number, url: () => string) {
  const failed: Record<string, number> = {};
  const fail = (why: string) => {
    failed[why] = (failed[why] ?? 0) + 1;
  };
  const inFlight = new Set<Promise<void>>();
  const timer = setInterval(() => {
    const request = fetch(url(), { signal: AbortSignal.timeout(5_000) })
      .then(async (response) => {
        await response.arrayBuffer();
        if (response.status !== 200) {
          fail(String(response.status));
        }
      })
      .catch((error: Error) => {
        fail(error.name);
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  }, 1000 / rate);
  return async () => {
    clearInterval(timer);
    await Promise.all(inFlight);
    return failed;
  };
}

/** The history load on `api` for as long as `during` runs; the server-side figures per route over it. */
async function underLoad(
  api: string,
  metricsUrl: string,
  seeded: Seeded,
  during: () => Promise<unknown>,
): Promise<{ at: RouteFigures; candles: RouteFigures }> {
  let i = 0;
  const base = `${api}/api/v1/prices/${PAIR}`;
  // Instants spread over the seeded day, past its first 15 minutes: retention trims the oldest points as the
  // bench runs (an instant before the oldest kept is a 404). Candles over the last 24 h, up to now.
  const firstMs = seeded.fromMs + 15 * 60_000;
  const atUrl = () => `${base}/at/${firstMs + ((i++ * 7_919_000) % (seeded.toMs - firstMs))}`;
  const candlesUrl = () => `${base}/candles?interval=1m&from=${Date.now() - DAY_MS}&to=${Date.now()}`;
  const scrape = async () => await (await fetch(metricsUrl)).text();
  const before = await scrape();
  const stops = [fixedRate(AT_RATE, atUrl), fixedRate(CANDLES_RATE, candlesUrl)];
  await during();
  const [atFailed, candlesFailed] = await Promise.all(stops.map((stop) => stop()));
  const after = await scrape();
  const figures = (route: string, failed: Record<string, number>, targetMs: number): RouteFigures => {
    const h: Histogram = histogramDelta(
      priceRouteHistogram(after, route),
      priceRouteHistogram(before, route),
    );
    const index = h.bounds.indexOf(targetMs / 1000);
    const requests = total(h);
    return {
      requests,
      failed,
      p50Ms: quantile(h, 0.5) * 1000,
      p99Ms: quantile(h, 0.99) * 1000,
      withinTarget: index === -1 || requests === 0 ? NaN : (h.cumulative[index] as number) / requests,
    };
  };
  return {
    at: figures(PRICE_AT_ROUTE, atFailed ?? {}, AT_P99_TARGET_MS),
    candles: figures(CANDLES_ROUTE, candlesFailed ?? {}, CANDLES_P99_TARGET_MS),
  };
}

export async function historySection(options: {
  api: string;
  metricsUrl: string;
  seeded: Seeded;
  /** The REST ratio of the main closed-loop rounds (history written, not queried). */
  restWithout: number;
  /** One closed-loop round of each side, `first` first; called while the history load runs. */
  restRound: (first: 'bare' | 'service') => Promise<{ bare: { rps: number }; service: { rps: number } }>;
  log: (line: string) => void;
}): Promise<HistoryFigures> {
  const { api, metricsUrl, seeded } = options;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  options.log('history: warm-up…');
  await underLoad(api, metricsUrl, seeded, () => sleep(2_000));
  options.log(`history: at ${AT_RATE}/s and 24 h candles ${CANDLES_RATE}/s for ${SECONDS} s…`);
  const alone = await underLoad(api, metricsUrl, seeded, () => sleep(SECONDS * 1000));
  const rounds: { bare: { rps: number }; service: { rps: number } }[] = [];
  options.log(`history: the same load during ${REST_ROUNDS} closed-loop rounds of each side…`);
  const underRest = await underLoad(api, metricsUrl, seeded, async () => {
    // Alternating who goes first, the median round kept: one round of each side moved the ratio by up to
    // 0.1 from run to run on this machine, twice the bound.
    for (let r = 0; r < REST_ROUNDS; r++)
      rounds.push(await options.restRound(r % 2 === 0 ? 'bare' : 'service'));
  });
  const ratio = (round: (typeof rounds)[number]) => round.service.rps / round.bare.rps;
  const served = [...rounds].sort((a, b) => ratio(a) - ratio(b))[
    Math.floor(rounds.length / 2)
  ] as (typeof rounds)[number];
  return {
    seeded,
    seconds: SECONDS,
    rates: { at: AT_RATE, candles: CANDLES_RATE },
    alone,
    underRest,
    rest: {
      with: ratio(served),
      without: options.restWithout,
      serviceRps: served.service.rps,
      bareRps: served.bare.rps,
    },
  };
}

const failedCount = (f: RouteFigures) => Object.values(f.failed).reduce((a, b) => a + b, 0);
const failures = (f: RouteFigures) =>
  Object.entries(f.failed)
    .map(([why, n]) => `${why} ${n}`)
    .join(', ') || '0';

const row = (name: string, f: RouteFigures) =>
  `${name.padEnd(26)} | ${String(f.requests).padStart(8)} | ${failures(f).padStart(6)} | ${fmt(f.p50Ms, 2).padStart(10)} | ${fmt(f.p99Ms, 2).padStart(10)}`;

export function printHistory(h: HistoryFigures): void {
  console.log(
    `\nprice history (${h.seeded.points} points over 24 h seeded in ${fmt(h.seeded.seconds, 1)} s; at ${h.rates.at}/s, 24 h of 1m candles ${h.rates.candles}/s, ${h.seconds} s; server side, from the service's histogram)`,
  );
  console.log('route / condition          | requests | failed | p50 ms srv | p99 ms srv');
  console.log(row('at, alone', h.alone.at));
  console.log(row('candles 24h/1m, alone', h.alone.candles));
  console.log(row('at, under REST load', h.underRest.at));
  console.log(row('candles, under REST load', h.underRest.candles));
  console.log(
    `closed loop while history is queried (median of ${REST_ROUNDS} alternating rounds): bare ${fmt(h.rest.bareRps, 0)} req/s, service ${fmt(h.rest.serviceRps, 0)} req/s, ratio ${h.rest.with.toFixed(3)} (without: ${h.rest.without.toFixed(3)})`,
  );
}

/** p99 within a bucket bound: at least 99% of the requests in buckets up to it; and none failed. */
function p99Target(name: string, f: RouteFigures, targetMs: number): Target {
  return {
    name,
    service: `${fmt(f.p99Ms, 2)} ms (${fmt(f.withinTarget * 100, 2)}% <= ${targetMs} ms, ${failedCount(f)} failed of ${f.requests})`,
    bare: '',
    value: f.p99Ms,
    bound: `<= ${targetMs} ms, none failed`,
    met: f.requests > 0 && f.withinTarget >= 0.99 && failedCount(f) === 0,
  };
}

export function historyTargets(h: HistoryFigures): Target[] {
  return [
    p99Target(`history: at p99 server side, ${h.rates.at}/s`, h.alone.at, AT_P99_TARGET_MS),
    p99Target(
      `history: 24 h of 1m candles p99 server side, ${h.rates.candles}/s`,
      h.alone.candles,
      CANDLES_P99_TARGET_MS,
    ),
    {
      name: 'REST req/s ratio while history is queried vs without',
      service: fmt(h.rest.with, 3),
      bare: `(without ${fmt(h.rest.without, 3)})`,
      value: h.rest.with - h.rest.without,
      bound: 'with - without >= -0.05',
      met: h.rest.with - h.rest.without >= -0.05,
    },
  ];
}
