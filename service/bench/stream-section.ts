/**
 * make bench's streaming section: subscribers of the price stream held by one client process
 * (stream-clients.ts), at each count first on one side then on the other (the service, and the bare fan-out
 * of bare-server.ts), alternating which goes first; the last count ends on the service, which keeps its
 * subscribers for one closed-loop round of each side (the REST ratio with them connected).
 * Per side and count, over BENCH_STREAM_SECONDS after a settle:
 * - fan-out time: the service's price_stream_fanout_seconds, and the bare workers' own timing of the same
 *   write loop put in the same buckets, p50/p99 interpolated alike (as histogram_quantile does);
 * - CPU per delivered event: the workers' utime+stime over the window ÷ price events the clients received;
 * - memory per subscriber: the growth of the workers' private anonymous memory (RssAnon) and of their RSS
 *   since before any stream, ÷ subscribers held (kernel socket buffers are in neither).
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT as ROOT } from '../../scripts/lib/local-stack';
import {
  TICK_US,
  bucketize,
  buckets,
  childMemory,
  cpuTicks,
  percentile,
  quantile,
  sum,
  type WorkerMemory,
} from './measure';

export type Side = 'bare' | 'service';

export interface StreamFigures {
  open: number;
  bytesPerSubscriber: number;
  rssBytesPerSubscriber: number;
  fanouts: number;
  fanoutP50Ms: number;
  fanoutP99Ms: number;
  /** The smallest bucket bound above every observation ("> <last bound>" past the last). */
  fanoutMaxMs: string;
  eventsReceived: number;
  cpuUsPerEvent: number;
  spreadP50Ms: number;
  spreadP99Ms: number;
  /** Percentiles of the timings themselves, where the server gives them: a check on the buckets' interpolation. */
  fanoutExactMs?: { p50: number; p99: number };
}

export interface StreamCount {
  subscribers: number;
  service: StreamFigures;
  bare: StreamFigures;
}

export interface StreamServer {
  port: number;
  pid: number | undefined;
  /** Subscribers the server says it holds. */
  held(): Promise<number>;
  /**
   * Starts a fan-out window; the returned function ends it: cumulative buckets of the window's fan-outs, and
   * the timings themselves where the server gives them (the bare side).
   */
  fanoutWindow(): Promise<() => Promise<{ buckets: Map<number, number>; rawMs?: number[] }>>;
}

export interface StreamOptions {
  host: string;
  counts: number[];
  seconds: number;
  workers: number;
  sides: Record<Side, StreamServer>;
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The service's side: its own metrics. */
export function serviceStreamServer(port: number, pid: number | undefined, metricsUrl: string): StreamServer {
  const scrape = async () => (await fetch(metricsUrl)).text();
  return {
    port,
    pid,
    held: async () => sum(await scrape(), 'price_stream_subscribers', ''),
    fanoutWindow: async () => {
      const before = buckets(await scrape(), 'price_stream_fanout_seconds');
      return async () => {
        const after = buckets(await scrape(), 'price_stream_fanout_seconds');
        return { buckets: new Map([...after].map(([le, count]) => [le, count - (before.get(le) ?? 0)])) };
      };
    },
  };
}

/** The bare side: its primary's control port, its timings put in the service histogram's buckets. */
export function bareStreamServer(
  port: number,
  pid: number | undefined,
  controlUrl: string,
  bounds: number[],
): StreamServer {
  const stats = async (what: 'stats' | 'reset') =>
    (await (await fetch(`${controlUrl}/${what}`)).json()) as { open: number; fanoutMs: number[] };
  return {
    port,
    pid,
    held: async () => (await stats('stats')).open,
    fanoutWindow: async () => {
      await stats('reset');
      return async () => {
        const rawMs = (await stats('stats')).fanoutMs;
        return {
          buckets: bucketize(
            rawMs.map((ms) => ms / 1000),
            bounds,
          ),
          rawMs,
        };
      };
    },
  };
}

export async function streamSection<R>(
  options: StreamOptions,
  restWhileConnected: () => Promise<R>,
): Promise<{ counts: StreamCount[]; rest: R }> {
  const { sides } = options;
  const clients = fork(path.join(ROOT, 'dist/service/bench/stream-clients.js'), [options.host, '0'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const before: Record<Side, WorkerMemory[]> = {
    bare: childMemory(sides.bare.pid),
    service: childMemory(sides.service.pid),
  };
  const counts: StreamCount[] = [];
  const last = options.counts.length - 1;

  const measure = async (side: Side, subscribers: number): Promise<StreamFigures> => {
    const server = sides[side];
    process.stderr.write(`streaming, ${side}: opening ${subscribers} subscribers…\n`);
    const opened = await ask<{ open: number }>(
      clients,
      { type: 'open', total: subscribers, port: server.port },
      'opened',
      180_000,
    );
    const deadline = Date.now() + 30_000;
    while ((await server.held()) < opened.open && Date.now() < deadline) await sleep(500);
    await sleep(3000); // settle: the opening burst's garbage collected
    await ask(clients, { type: 'reset' }, 'reset', 10_000);
    const endWindow = await server.fanoutWindow();
    const cpuBefore = cpuTicks(server.pid, { workersOnly: true });
    process.stderr.write(`streaming, ${side}: ${opened.open} subscribers for ${options.seconds}s…\n`);
    await sleep(options.seconds * 1000);
    const cpu = cpuTicks(server.pid, { workersOnly: true }) - cpuBefore;
    const { buckets: window, rawMs } = await endWindow();
    const stats = await ask<{ open: number; events: number; spreadsMs: number[] }>(
      clients,
      { type: 'stats' },
      'stats',
      10_000,
    );
    const memory = childMemory(server.pid);
    const growth = (field: 'anon' | 'rss') =>
      memory.reduce((t, m, i) => t + m[field] - (before[side][i]?.[field] ?? m[field]), 0);
    const total = window.get(Infinity) ?? 0;
    const bounds = [...window.keys()].sort((a, b) => a - b);
    const maxBound = bounds.find((le) => (window.get(le) ?? 0) >= total);
    const perSubscriber = (mb: number) => (mb * 1024 * 1024) / Math.max(1, stats.open);
    return {
      open: stats.open,
      bytesPerSubscriber: perSubscriber(growth('anon')),
      rssBytesPerSubscriber: perSubscriber(growth('rss')),
      fanouts: total,
      fanoutP50Ms: quantile(0.5, window) * 1000,
      fanoutP99Ms: quantile(0.99, window) * 1000,
      fanoutMaxMs:
        maxBound === undefined || !Number.isFinite(maxBound)
          ? `> ${(bounds.filter(Number.isFinite).at(-1) ?? 0) * 1000}`
          : `<= ${maxBound * 1000}`,
      eventsReceived: stats.events,
      cpuUsPerEvent: (cpu * TICK_US) / Math.max(1, stats.events),
      spreadP50Ms: percentile(stats.spreadsMs, 0.5),
      spreadP99Ms: percentile(stats.spreadsMs, 0.99),
      ...(rawMs && { fanoutExactMs: { p50: percentile(rawMs, 0.5), p99: percentile(rawMs, 0.99) } }),
    };
  };

  try {
    for (const [index, subscribers] of options.counts.entries()) {
      // Alternate who goes first, counting back from the last count, which ends on the service.
      const order: Side[] = (last - index) % 2 === 0 ? ['bare', 'service'] : ['service', 'bare'];
      const result: Partial<Record<Side, StreamFigures>> = {};
      for (const side of order) {
        result[side] = await measure(side, subscribers);
        if (!(index === last && side === 'service')) await ask(clients, { type: 'close' }, 'closed', 60_000);
      }
      counts.push({ subscribers, service: result.service!, bare: result.bare! });
    }
    return { counts, rest: await restWhileConnected() };
  } finally {
    clients.kill();
  }
}
