/**
 * make bench: the real service in its production configuration (2 workers, metrics, tracing SDK, logs at
 * info, Redis L2 on a real redis-server, the mock exchange upstream) side by side with a bare node:http
 * cluster writing the same bytes, driven by the same load, alternating A/B over several rounds.
 *
 * Environment: BENCH_ROUNDS (3), BENCH_SECONDS (10), BENCH_CONNECTIONS (300), BENCH_RATE (5000), WORKERS (2).
 * BENCH_RATE_LIMIT=1 runs the service with the per-client rate limiter on (in Redis, with a budget no
 * client reaches, so every request pays for the check and none is refused): the ratio is then reported,
 * not held to the target, which is for the default configuration (limiter off).
 * Then the streaming section: subscribers of GET /api/v1/prices/eth-usdt/stream held by a client process
 * (scripts/bench/stream-clients.ts), BENCH_STREAM_COUNTS (1000,10000) of them over the workers: memory per
 * subscriber (the workers' private anonymous memory, against before any stream), fan-out latency (the
 * service's price_stream_fanout_seconds: from the snapshot reaching a worker's stream to the last
 * subscriber's socket write) over BENCH_STREAM_SECONDS (15), and one more closed-loop round of each side
 * while the largest count is connected.
 * Prints a table and the targets met or missed; writes bench-results/<time>.json. Exits 1 if a target is missed.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../lib/free-port';
import {
  REPO_ROOT as ROOT,
  need,
  startMockExchangeProcess,
  startProcess as start,
  startRedisServer,
  startServiceProcess,
  stopAll,
  waitFor,
  waitForReadiness,
} from '../lib/local-stack';

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
    path.join(ROOT, 'scripts/bench/wrk-report.lua'),
    url,
  ]);
  return lastJsonLine(out) as Figures;
}

async function openLoop(url: string): Promise<Figures> {
  const out = await run(process.execPath, [
    path.join(ROOT, 'dist/scripts/bench/open-loop.js'),
    url,
    String(RATE),
    String(CONNECTIONS),
    String(SECONDS),
  ]);
  return lastJsonLine(out) as Figures;
}

/** utime + stime, in clock ticks, of a process and its direct children (the cluster's workers). */
function cpuTicks(pid: number | undefined): number {
  const ticks = (p: string) => {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return Number(fields[11]) + Number(fields[12]);
    } catch {
      return 0;
    }
  };
  const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return [String(pid), ...children].reduce((total, p) => total + ticks(p), 0);
}

/** Sum of every sample of a metric whose label text contains `labels`. */
function sum(text: string, name: string, labels: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_:]+)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match?.[1] === name && (match[2] ?? '').includes(labels)) total += Number(match[3]);
  }
  return total;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '-');

async function main(): Promise<void> {
  need('wrk', 'apt-get install -y wrk');
  need('redis-server', 'apt-get install -y redis-server');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  const barePort = await freePort();
  const redis = await startRedisServer();
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
      ...(RATE_LIMITED ? RATE_LIMIT_ENV : {}),
    },
    nodeArgs: SERVICE_NODE_ARGS,
    log: path.join(tmp, 'service.log'),
  });
  const service = started.process;
  const api = started.api;
  const readyMs = await waitForReadiness(started);

  // The baseline writes the service's own bytes and headers.
  const sample = await fetch(`${api}/api/v1/prices/eth-usdt`);
  const body = Buffer.from(await sample.arrayBuffer());
  // Every header the service wrote (security headers included), except those node:http adds itself and the
  // two the baseline sets: both sides then put the same bytes on the wire.
  const own = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive']);
  const headers = [...sample.headers].filter(([name]) => !own.has(name)).flat();
  writeFileSync(path.join(tmp, 'body.json'), body);
  writeFileSync(path.join(tmp, 'headers.json'), JSON.stringify(headers));
  const bareServer = start(process.execPath, [
    path.join(ROOT, 'dist/scripts/bench/bare-server.js'),
    String(barePort),
    String(WORKERS),
    path.join(tmp, 'body.json'),
    path.join(tmp, 'headers.json'),
  ]);
  const bare = `http://127.0.0.1:${barePort}/`;
  await waitFor('bare server', async () => (await fetch(bare)).ok);
  const priceUrl = `${api}/api/v1/prices/eth-usdt`;

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
        // Clock ticks are 10 ms (USER_HZ 100).
        figures.cpuUs = ((cpuTicks(pid) - cpuBefore) * 10_000) / Math.max(1, requests);
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

  /** RSS of each child of pid, and its private anonymous part (RssAnon) and proportional share (Pss). */
  const childMemory = (pid: number | undefined) =>
    spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .stdout.split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .map((child) => {
        const read = (file: string, field: string) =>
          Number(
            new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
              readFileSync(`/proc/${child}/${file}`, 'utf8'),
            )?.[1] ?? NaN,
          ) / 1024;
        return {
          rss: read('status', 'VmRSS'),
          anon: read('status', 'RssAnon'),
          pss: read('smaps_rollup', 'Pss'),
        };
      });
  const serviceMemory = childMemory(service.pid);
  const bareMemory = childMemory(bareServer.pid);
  const childRssMb = (memory: { rss: number }[]) => memory.map((m) => m.rss);
  const workerRssMb = childRssMb(serviceMemory);

  const streaming = await streamSection({
    api,
    metricsUrl,
    memory: () => childMemory(service.pid),
    rest: async () => {
      const result: Partial<Record<'bare' | 'service', Figures>> = {};
      for (const side of ['bare', 'service'] as const) {
        process.stderr.write(`closed loop with ${STREAM_COUNTS.at(-1)} subscribers: ${side}…\n`);
        result[side] = await closedLoop(side === 'bare' ? bare : priceUrl);
      }
      return result as { bare: Figures; service: Figures };
    },
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
    return median(ratios);
  };
  const closedRatio = rows('Closed loop (wrk)', closed);
  rows(`Open loop at ${RATE} req/s`, open);
  const openP99 = median(open.map((r) => r.service.p99));
  const openRps = median(open.map((r) => r.service.rps));
  const maxWorkerRss = Math.max(...workerRssMb);
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
  if (SERVICE_NODE_ARGS.length > 0) console.log(`service node flags: ${SERVICE_NODE_ARGS.join(' ')}`);
  console.log(
    `upstream calls per source per ${REFRESH_INTERVAL_MS} ms interval during the run: ${JSON.stringify(perInterval)}`,
  );
  console.log(
    `refresh during the run (${intervals.toFixed(0)} intervals): ${refresh.roundsPublished} rounds published, ` +
      `${refresh.roundsNoQuorum} without quorum; upstream fetches ${refresh.upstreamSuccess} ok, ` +
      `${refresh.upstreamFailed} failed, ${refresh.upstreamMsAvg.toFixed(1)} ms on average`,
  );
  console.log(
    `\nStreaming (${WORKERS} workers, one snapshot per ${REFRESH_INTERVAL_MS} ms, ${STREAM_SECONDS}s per count)`,
  );
  console.log(
    'subscribers | open  | per worker | memory/subscriber | fan-out p50 ms | p99 ms | max ms | snapshots | events received | receipt spread p50/p99 ms',
  );
  for (const r of streaming.counts) {
    console.log(
      `${String(r.subscribers).padStart(11)} | ${String(r.open).padStart(5)} | ${r.perWorker.padStart(10)} | ${`${fmt(r.bytesPerSubscriber / 1024, 2)} KB`.padStart(17)} | ${fmt(r.fanoutP50Ms, 2).padStart(14)} | ${fmt(r.fanoutP99Ms, 2).padStart(6)} | ${r.fanoutMaxMs.padStart(6)} | ${String(r.fanouts).padStart(9)} | ${String(r.eventsReceived).padStart(15)} | ${fmt(r.spreadP50Ms, 1)}/${fmt(r.spreadP99Ms, 1)}`,
    );
  }
  const withStreams = streaming.rest.service.rps / streaming.rest.bare.rps;
  console.log(
    `closed loop with ${STREAM_COUNTS.at(-1)} subscribers connected: bare ${fmt(streaming.rest.bare.rps, 0)} req/s, service ${fmt(streaming.rest.service.rps, 0)} req/s (p99 ${fmt(streaming.rest.service.p99, 2)} ms), ratio ${withStreams.toFixed(3)} (without: ${closedRatio.toFixed(3)})`,
  );
  const largest = streaming.counts.at(-1);
  const targets = [
    [
      `${largest?.subscribers} stream subscribers held (${WORKERS} workers)`,
      largest !== undefined && largest.open === largest.subscribers,
      `${largest?.open} open`,
    ],
    [
      `stream fan-out p99 < 50 ms at ${largest?.subscribers} subscribers`,
      largest !== undefined && largest.fanoutP99Ms < 50,
      `${fmt(largest?.fanoutP99Ms ?? NaN, 2)} ms`,
    ],
    [
      'memory per stream subscriber < 10 KB',
      largest !== undefined && largest.bytesPerSubscriber < 10 * 1024,
      `${fmt((largest?.bytesPerSubscriber ?? NaN) / 1024, 2)} KB`,
    ],
    [
      `REST ratio with ${largest?.subscribers} subscribers within 0.05 of without`,
      withStreams >= closedRatio - 0.05,
      `${withStreams.toFixed(3)} vs ${closedRatio.toFixed(3)}`,
    ],
    [
      RATE_LIMITED
        ? 'median req/s ratio service/bare with the rate limiter on (reported; the 0.85 target is for it off)'
        : 'median req/s ratio service/bare >= 0.85 (closed loop)',
      RATE_LIMITED || closedRatio >= 0.85,
      closedRatio.toFixed(3),
    ],
    [
      `p99 <= 50 ms at ${RATE} req/s open loop`,
      openP99 <= 50 && openRps >= RATE * 0.95,
      `${fmt(openP99, 2)} ms at ${openRps} req/s`,
    ],
    [
      'one upstream call per source per interval',
      upstreamExact,
      `${JSON.stringify(upstreamCalls)} calls in ${intervals.toFixed(1)} intervals`,
    ],
    ['worker RSS <= 80 MB', maxWorkerRss <= 80, `${maxWorkerRss.toFixed(1)} MB`],
  ] as const;
  console.log('\ntargets:');
  for (const [name, ok, value] of targets) console.log(`  ${ok ? 'MET   ' : 'MISSED'} ${name}: ${value}`);

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
      },
      null,
      2,
    ),
  );
  console.log(`\nraw figures: ${path.relative(ROOT, file)}; service log: ${path.join(tmp, 'service.log')}`);
  process.exitCode = targets.every(([, ok]) => ok) ? 0 : 1;
}

interface StreamCount {
  subscribers: number;
  open: number;
  perWorker: string;
  bytesPerSubscriber: number;
  fanouts: number;
  fanoutP50Ms: number;
  fanoutP99Ms: number;
  /** The smallest bucket bound above every observation ("> 1000" past the last). */
  fanoutMaxMs: string;
  eventsReceived: number;
  spreadP50Ms: number;
  spreadP99Ms: number;
}

/** Cumulative buckets (le → count) of an unlabelled histogram in an exposition. */
function buckets(text: string, name: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\}\\s+(\\S+)`).exec(line);
    if (match) out.set(match[1] === '+Inf' ? Infinity : Number(match[1]), Number(match[2]));
  }
  return out;
}

/** Prometheus' histogram_quantile over the difference of two scrapes: linear within the bucket. */
function quantile(q: number, after: Map<number, number>, before: Map<number, number>): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
  const total = counts.at(-1) ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (let i = 0; i < bounds.length; i++) {
    const upper = bounds[i] as number;
    const count = counts[i] as number;
    if (count >= rank) {
      if (!Number.isFinite(upper)) return lower;
      return lower + ((upper - lower) * (rank - below)) / Math.max(1, count - below);
    }
    lower = upper;
    below = count;
  }
  return lower;
}

function percentile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

function ask<T>(child: ChildProcess, message: object, reply: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`stream clients: no ${reply} in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (m: { type: string }) => {
      if (m.type !== reply) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(m as T);
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

async function streamSection(options: {
  api: string;
  metricsUrl: string;
  memory: () => { anon: number }[];
  rest: () => Promise<{ bare: Figures; service: Figures }>;
}): Promise<{ counts: StreamCount[]; rest: { bare: Figures; service: Figures } }> {
  const scrape = async () => (await fetch(options.metricsUrl)).text();
  const url = new URL(options.api);
  const clients = fork(path.join(ROOT, 'dist/scripts/bench/stream-clients.js'), [url.hostname, url.port], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const before = options.memory();
  const counts: StreamCount[] = [];
  try {
    for (const subscribers of STREAM_COUNTS) {
      process.stderr.write(`streaming: opening ${subscribers} subscribers…\n`);
      const opened = await ask<{ open: number }>(
        clients,
        { type: 'open', total: subscribers },
        'opened',
        180_000,
      );
      const deadline = Date.now() + 30_000;
      while (sum(await scrape(), 'price_stream_subscribers', '') < opened.open && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
      }
      await new Promise((r) => setTimeout(r, 3000)); // settle: the opening burst's garbage collected
      await ask(clients, { type: 'reset' }, 'reset', 10_000);
      const metricsBefore = await scrape();
      process.stderr.write(`streaming: ${opened.open} subscribers for ${STREAM_SECONDS}s…\n`);
      await new Promise((r) => setTimeout(r, STREAM_SECONDS * 1000));
      const metricsAfter = await scrape();
      const stats = await ask<{ open: number; events: number; spreadsMs: number[] }>(
        clients,
        { type: 'stats' },
        'stats',
        10_000,
      );
      const memory = options.memory();
      const anonDelta = memory.reduce((t, m, i) => t + m.anon - (before[i]?.anon ?? m.anon), 0);
      const b0 = buckets(metricsBefore, 'price_stream_fanout_seconds');
      const b1 = buckets(metricsAfter, 'price_stream_fanout_seconds');
      const bounds = [...b1.keys()].sort((a, b) => a - b);
      const total = (b1.get(Infinity) ?? 0) - (b0.get(Infinity) ?? 0);
      const maxBound = bounds.find((le) => (b1.get(le) ?? 0) - (b0.get(le) ?? 0) >= total);
      counts.push({
        subscribers,
        open: stats.open,
        perWorker: `~${Math.round(stats.open / WORKERS)}`,
        bytesPerSubscriber: (anonDelta * 1024 * 1024) / Math.max(1, stats.open),
        fanouts: total,
        fanoutP50Ms: quantile(0.5, b1, b0) * 1000,
        fanoutP99Ms: quantile(0.99, b1, b0) * 1000,
        fanoutMaxMs:
          maxBound === undefined || !Number.isFinite(maxBound) ? '> 1000' : `<= ${maxBound * 1000}`,
        eventsReceived: stats.events,
        spreadP50Ms: percentile(stats.spreadsMs, 0.5),
        spreadP99Ms: percentile(stats.spreadsMs, 0.99),
      });
    }
    const rest = await options.rest();
    return { counts, rest };
  } finally {
    clients.kill();
  }
}

process.on('SIGINT', () => process.exit(130));
main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => {
    stopAll();
    // Give the children a moment to drain and the service log to be written.
    setTimeout(() => process.exit(), 2500).unref();
  });
