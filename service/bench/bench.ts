/**
 * make bench: the real service in its production configuration (2 workers, metrics, tracing SDK, logs at
 * info, Redis L2 on a real redis-server, the mock exchange upstream) side by side with a bare node:http
 * cluster writing the same bytes, driven by the same load, alternating A/B over several rounds.
 *
 * Environment: BENCH_ROUNDS (3), BENCH_SECONDS (10), BENCH_CONNECTIONS (300), BENCH_RATE (5000), WORKERS (2).
 * BENCH_RATE_LIMIT=1 runs the service with the per-client rate limiter on (in Redis, with a budget no
 * client reaches, so every request pays for the check and none is refused): the ratio is then reported,
 * not held to the target, which is for the default configuration (limiter off).
 * The bare server writes the service's exact head and body (checked on the wire before any round).
 * Then the streaming section (stream-section.ts): subscribers of GET /api/v1/prices/eth-usdt/stream held by a
 * client process (stream-clients.ts), BENCH_STREAM_COUNTS (1000,10000) of them over the workers, on the
 * service and on the bare fan-out in turn, each over BENCH_STREAM_SECONDS (15): fan-out time, CPU per
 * delivered event, memory per subscriber; then one more closed-loop round of each side while the largest
 * count is connected to the service.
 * Then the price history section (history-section.ts): the server-side p99 of `at` and of 24 h of 1m
 * candles over a day of history seeded before the service starts, and the REST ratio while they are queried.
 * Prints the rounds, then one table of targets, each a ratio to the bare baseline in this same run, MET or
 * MISSED; writes bench-results/<time>.json. Exits 1 if a target is missed.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../scripts/lib/free-port';
import {
  REPO_ROOT as ROOT,
  need,
  startMockExchangeProcess,
  startRedisServer,
  startServiceProcess,
  waitForReadiness,
} from '../../scripts/lib/local-stack';
import { runBenchScript } from './side-by-side';
import { startBareBaseline } from './bare-baseline';
import { TICK_US, buckets, childMemory, cpuTicks, fmt, median, sum } from './measure';
import { historySection, historyTargets, printHistory, seedHistory } from './history-section';
import { bareStreamServer, serviceStreamServer, streamSection } from './stream-section';
import { benchTargets, printStreaming } from './report';
import { allMet, printTargets } from './targets';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 300);
const RATE = Number(process.env.BENCH_RATE ?? 5000);
const WORKERS = Number(process.env.WORKERS ?? 2);
const REFRESH_INTERVAL_MS = 1000;
const RATE_LIMITED = process.env.BENCH_RATE_LIMIT === '1';
/** Settings of the limiter-on run: one client (wrk) under a budget it cannot spend in the run. */
const RATE_LIMIT_ENV = { RATE_LIMIT_REQUESTS: '1000000000', RATE_LIMIT_WINDOW_SECONDS: '60' };
/** Node flags of the production command (Dockerfile CMD, make run); workers inherit them. */
const STREAM_COUNTS = (process.env.BENCH_STREAM_COUNTS ?? '1000,10000').split(',').map(Number);
const STREAM_SECONDS = Number(process.env.BENCH_STREAM_SECONDS ?? 15);
/** The service's default, given to both sides: a subscriber with more unsent is dropped. */
const STREAM_MAX_BUFFERED_BYTES = 65_536;
const SERVICE_NODE_ARGS = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);

interface Figures {
  rps: number;
  /** CPU time the side's processes (primary and workers) spent per request completed, in microseconds. */
  cpuUs?: number;
  p50: number;
  p99: number;
  p999: number;
  errors: number;
  non2xx: number;
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} exited ${code}`))));
  });
}

const lastJsonLine = (text: string) =>
  JSON.parse(
    text
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop() as string,
  );

async function closedLoop(url: string, seconds = SECONDS): Promise<Figures> {
  const out = await run('wrk', [
    '-t2',
    `-c${CONNECTIONS}`,
    `-d${seconds}s`,
    '--timeout',
    '5s',
    '-s',
    path.join(ROOT, 'service/bench/wrk-report.lua'),
    url,
  ]);
  return lastJsonLine(out) as Figures;
}

async function openLoop(url: string): Promise<Figures> {
  const out = await run(process.execPath, [
    path.join(ROOT, 'dist/service/bench/open-loop.js'),
    url,
    String(RATE),
    String(CONNECTIONS),
    String(SECONDS),
  ]);
  return lastJsonLine(out) as Figures;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

async function main(): Promise<void> {
  need('wrk', 'apt-get install -y wrk');
  need('redis-server', 'apt-get install -y redis-server');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  const barePort = await freePort();
  const redis = await startRedisServer();
  process.stderr.write('history: seeding 24 h of points…\n');
  const seeded = await seedHistory(redis.url);
  const mock = await startMockExchangeProcess();
  const mockUrl = mock.url;
  const started = await startServiceProcess({
    redisUrl: redis.url,
    mockExchangeUrl: mockUrl,
    env: {
      WORKERS: String(WORKERS),
      REFRESH_INTERVAL_MS: String(REFRESH_INTERVAL_MS),
      // Every bench subscriber comes from 127.0.0.1: one client as far as the per-client limit goes.
      STREAM_MAX_SUBSCRIBERS_PER_CLIENT: '8000',
      STREAM_MAX_BUFFERED_BYTES: String(STREAM_MAX_BUFFERED_BYTES),
      ...(RATE_LIMITED ? RATE_LIMIT_ENV : {}),
    },
    nodeArgs: SERVICE_NODE_ARGS,
    log: path.join(tmp, 'service.log'),
  });
  const service = started.process;
  const api = started.api;
  const readyMs = await waitForReadiness(started);

  const priceUrl = `${api}/api/v1/prices/eth-usdt`;
  const { bareServer, bare, controlPort, workerExecArgv } = await startBareBaseline({
    priceUrl,
    servicePid: service.pid,
    port: barePort,
    workers: WORKERS,
    intervalMs: REFRESH_INTERVAL_MS,
    maxBufferedBytes: STREAM_MAX_BUFFERED_BYTES,
    tmp,
  });

  // Warm-up: both servers get the same short load first, so JIT compilation is not part of any round.
  process.stderr.write('warm-up…\n');
  await closedLoop(bare, 3);
  await closedLoop(priceUrl, 3);

  const metricsUrl = started.metricsUrl;
  const metricsBefore = await (await fetch(metricsUrl)).text();
  const countersBefore = (await (await fetch(`${mockUrl}/__control/counters`)).json()) as Record<
    string,
    number
  >;
  const loadStarted = performance.now();
  const closed: { bare: Figures; service: Figures }[] = [];
  const open: { bare: Figures; service: Figures }[] = [];
  for (const [label, drive, results] of [
    ['closed loop', closedLoop, closed],
    ['open loop', openLoop, open],
  ] as const) {
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate who goes first so drift on a shared machine does not favour one side.
      const order = round % 2 === 0 ? (['bare', 'service'] as const) : (['service', 'bare'] as const);
      const result: Partial<Record<'bare' | 'service', Figures>> = {};
      for (const side of order) {
        process.stderr.write(`${label} round ${round + 1}/${ROUNDS}: ${side}…\n`);
        const pid = side === 'bare' ? bareServer.pid : service.pid;
        const cpuBefore = cpuTicks(pid);
        const figures = await drive(side === 'bare' ? bare : priceUrl);
        const requests =
          'requests' in figures ? (figures as { requests: number }).requests : figures.rps * SECONDS;
        figures.cpuUs = ((cpuTicks(pid) - cpuBefore) * TICK_US) / Math.max(1, requests);
        result[side] = figures;
      }
      results.push(result as { bare: Figures; service: Figures });
    }
  }
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  const countersAfter = (await (await fetch(`${mockUrl}/__control/counters`)).json()) as Record<
    string,
    number
  >;
  const metricsAfter = await (await fetch(metricsUrl)).text();
  const delta = (name: string, labels: string) =>
    sum(metricsAfter, name, labels) - sum(metricsBefore, name, labels);
  const refresh = {
    roundsPublished: delta('price_refresh_rounds_total', 'result="published"'),
    roundsNoQuorum: delta('price_refresh_rounds_total', 'result="no_quorum"'),
    upstreamSuccess: delta('upstream_requests_total', 'outcome="success"'),
    upstreamFailed:
      delta('upstream_requests_total', '') - delta('upstream_requests_total', 'outcome="success"'),
    upstreamMsAvg:
      (1000 * delta('upstream_request_duration_seconds_sum', '')) /
      Math.max(1, delta('upstream_request_duration_seconds_count', '')),
  };
  const intervals = (loadSeconds * 1000) / REFRESH_INTERVAL_MS;
  const perInterval = Object.fromEntries(
    Object.keys(countersAfter).map((s) => [
      s,
      Number(((countersAfter[s]! - (countersBefore[s] ?? 0)) / intervals).toFixed(3)),
    ]),
  );

  const serviceMemory = childMemory(service.pid);
  const bareMemory = childMemory(bareServer.pid);
  const workerRssMb = serviceMemory.map((m) => m.rss);

  const metricsText = await (await fetch(metricsUrl)).text();
  const fanoutBounds = [...buckets(metricsText, 'price_stream_fanout_seconds').keys()];
  const streaming = await streamSection(
    {
      host: new URL(api).hostname,
      counts: STREAM_COUNTS,
      seconds: STREAM_SECONDS,
      workers: WORKERS,
      sides: {
        service: serviceStreamServer(Number(new URL(api).port), service.pid, metricsUrl),
        bare: bareStreamServer(barePort, bareServer.pid, `http://127.0.0.1:${controlPort}`, fanoutBounds),
      },
    },
    async () => {
      const result: Partial<Record<'bare' | 'service', Figures>> = {};
      for (const side of ['bare', 'service'] as const) {
        process.stderr.write(`closed loop with ${STREAM_COUNTS.at(-1)} subscribers: ${side}…\n`);
        result[side] = await closedLoop(side === 'bare' ? bare : priceUrl);
      }
      return result as { bare: Figures; service: Figures };
    },
  );

  const history = await historySection({
    api,
    metricsUrl,
    seeded,
    restWithout: median(closed.map((r) => r.service.rps / r.bare.rps)),
    restRound: async (first) => {
      const [a, b] = first === 'bare' ? [bare, priceUrl] : [priceUrl, bare];
      const [ra, rb] = [await closedLoop(a), await closedLoop(b)];
      return first === 'bare' ? { bare: ra, service: rb } : { bare: rb, service: ra };
    },
    log: (line) => process.stderr.write(`${line}\n`),
  });

  const rows = (name: string, results: { bare: Figures; service: Figures }[]) => {
    console.log(`\n${name} (${CONNECTIONS} connections, ${SECONDS}s per run, ${WORKERS} workers each)`);
    console.log(
      'round | side    |    req/s |  p50 ms |  p99 ms | p99.9 ms | errors | non-2xx | CPU µs/req | ratio',
    );
    results.forEach((r, i) => {
      const ratio = r.service.rps / r.bare.rps;
      for (const side of ['bare', 'service'] as const) {
        const f = r[side];
        console.log(
          `${String(i + 1).padStart(5)} | ${side.padEnd(7)} | ${fmt(f.rps, 0).padStart(8)} | ${fmt(f.p50, 2).padStart(7)} | ${fmt(f.p99, 2).padStart(7)} | ${fmt(f.p999, 2).padStart(8)} | ${String(f.errors).padStart(6)} | ${String(f.non2xx).padStart(7)} | ${fmt(f.cpuUs ?? NaN, 1).padStart(10)} | ${side === 'service' ? ratio.toFixed(3) : ''}`,
        );
      }
    });
    const ratios = results.map((r) => r.service.rps / r.bare.rps);
    const cpuRatios = results.map((r) => (r.bare.cpuUs ?? NaN) / (r.service.cpuUs ?? NaN));
    console.log(
      `median ratio service/bare: ${median(ratios).toFixed(3)} (req/s); ${median(cpuRatios).toFixed(3)} (bare CPU per request / service CPU per request)`,
    );
    const medianOf = (side: 'bare' | 'service', key: 'rps' | 'cpuUs') =>
      median(results.map((r) => r[side][key] ?? NaN));
    return {
      rpsRatio: median(ratios),
      cpuRatio: median(cpuRatios),
      rps: { service: medianOf('service', 'rps'), bare: medianOf('bare', 'rps') },
      cpuUs: { service: medianOf('service', 'cpuUs'), bare: medianOf('bare', 'cpuUs') },
    };
  };
  const closedSummary = rows('Closed loop (wrk)', closed);
  const closedRatio = closedSummary.rpsRatio;
  const openSummary = rows(`Open loop at ${RATE} req/s`, open);
  const openP99 = median(open.map((r) => r.service.p99));
  const openRps = median(open.map((r) => r.service.rps));
  // A window of T seconds crosses floor(T) or ceil(T) epoch boundaries: exactly one call per source per
  // interval means a count within one of the number of intervals, for every source.
  const upstreamCalls = Object.keys(countersAfter).map((s) => countersAfter[s]! - (countersBefore[s] ?? 0));
  const upstreamExact = upstreamCalls.every((calls) => Math.abs(calls - intervals) <= 1);

  console.log(
    `\nrate limiter: ${RATE_LIMITED ? `on (Redis, ${RATE_LIMIT_ENV.RATE_LIMIT_REQUESTS} requests per ${RATE_LIMIT_ENV.RATE_LIMIT_WINDOW_SECONDS} s per client)` : 'off (the default)'}`,
  );
  console.log(`start to ready: ${readyMs.toFixed(0)} ms`);
  const describe = (memory: { rss: number; anon: number; pss: number }[]) =>
    memory
      .map((m) => `${m.rss.toFixed(1)} MB (anon ${m.anon.toFixed(1)}, pss ${m.pss.toFixed(1)})`)
      .join(', ');
  console.log(`worker RSS after the run: service ${describe(serviceMemory)}; bare ${describe(bareMemory)}`);
  console.log(`worker node flags, both sides: ${workerExecArgv.join(' ') || '(none)'}`);
  console.log(
    `upstream calls per source per ${REFRESH_INTERVAL_MS} ms interval during the run: ${JSON.stringify(perInterval)}`,
  );
  console.log(
    `refresh during the run (${intervals.toFixed(0)} intervals): ${refresh.roundsPublished} rounds published, ` +
      `${refresh.roundsNoQuorum} without quorum; upstream fetches ${refresh.upstreamSuccess} ok, ` +
      `${refresh.upstreamFailed} failed, ${refresh.upstreamMsAvg.toFixed(1)} ms on average`,
  );
  printStreaming(streaming.counts);
  const withStreams = streaming.rest.service.rps / streaming.rest.bare.rps;
  console.log(
    `closed loop with ${STREAM_COUNTS.at(-1)} subscribers connected: bare ${fmt(streaming.rest.bare.rps, 0)} req/s, service ${fmt(streaming.rest.service.rps, 0)} req/s (p99 ${fmt(streaming.rest.service.p99, 2)} ms), ratio ${withStreams.toFixed(3)} (without: ${closedRatio.toFixed(3)})`,
  );
  printHistory(history);
  const targets = benchTargets({
    closed: closedSummary,
    open: openSummary,
    openP99,
    openRps,
    rate: RATE,
    rateLimited: RATE_LIMITED,
    workerRss: { service: mean(serviceMemory.map((m) => m.rss)), bare: mean(bareMemory.map((m) => m.rss)) },
    largest: streaming.counts.at(-1),
    rest: { with: withStreams, without: closedRatio },
    upstream: { exact: upstreamExact, calls: upstreamCalls, intervals },
  }).concat(historyTargets(history));
  printTargets(targets);

  mkdirSync(path.join(ROOT, 'bench-results'), { recursive: true });
  const file = path.join(ROOT, 'bench-results', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
        rateLimiter: RATE_LIMITED ? RATE_LIMIT_ENV : 'off',
        closed,
        open,
        readyMs,
        workerRssMb,
        perInterval,
        refresh,
        streaming,
        history,
      },
      null,
      2,
    ),
  );
  console.log(`\nraw figures: ${path.relative(ROOT, file)}; service log: ${path.join(tmp, 'service.log')}`);
  process.exitCode = allMet(targets) ? 0 : 1;
}

process.on('SIGINT', () => process.exit(130));
runBenchScript(main);
