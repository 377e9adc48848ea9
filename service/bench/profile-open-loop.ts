/**
 * Where each side's CPU goes per request in the open loop: the service (primary and workers) and the bare
 * baseline (its workers, with the service workers' node flags) run with --cpu-prof under the open-loop load
 * at BENCH_RATE (5000) req/s, alternating BENCH_ROUNDS (2) windows of BENCH_SECONDS (10) each; the samples
 * inside each side's windows are summed by script, package or Node module, per request completed.
 * The profiler samples wall time: on a loaded machine a descheduled thread is charged to what it was
 * running, so read differences, not totals.
 * Usage: make build && node dist/service/bench/profile-open-loop.js (needs redis-server)
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { stopProcess } from '../../scripts/lib/local-stack';
import { childPids } from './measure';
import { openLoop } from './open-loop-process';
import { printSideBySide, runBenchScript, startBothSides } from './side-by-side';

const RATE = Number(process.env.BENCH_RATE ?? 5000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const WORKERS = Number(process.env.WORKERS ?? 2);

type Side = 'bare' | 'service';
interface Window {
  side: Side;
  /** Monotonic clock, µs: the profiler's clock. */
  from: number;
  to: number;
  completed: number;
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

interface Profile {
  nodes: { id: number; callFrame: { functionName: string; url: string } }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A script of ours, a package, a Node module, or a native function / V8 state. */
function category(frame: { functionName: string; url: string }): string {
  if (!frame.url)
    return frame.functionName.startsWith('(') ? frame.functionName : `native ${frame.functionName}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame.url);
  if (pkg) return `package ${pkg[1]}`;
  const ours = /\/dist\/(.*)\.js$/.exec(frame.url);
  return ours ? (ours[1] as string) : frame.url;
}

/** Self time (µs) by category of the samples of one profile inside the given windows. */
function selfTime(profile: Profile, windows: Window[], into: Map<string, number>, prefix = ''): void {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (!windows.some((w) => at >= w.from && at < w.to)) return;
    const name = `${prefix}${category(frames.get(id) ?? { functionName: '?', url: '' })}`;
    into.set(name, (into.get(name) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  });
}

async function main(): Promise<void> {
  let dir = '';
  const {
    service: started,
    priceUrl,
    bareServer,
    bare,
  } = await startBothSides({
    tmpPrefix: 'bench-profile-',
    workers: WORKERS,
    nodeArgs: (tmp) => {
      dir = path.join(tmp, 'profiles');
      return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
    },
  });
  const primary = started.process.pid as number;
  const pids: Record<Side, number[]> = {
    service: [primary, ...childPids(primary).map(Number)],
    bare: childPids(bareServer.pid).map(Number),
  };
  process.stderr.write('warm-up…\n');
  await openLoop(bare, RATE, 3);
  await openLoop(priceUrl, RATE, 3);
  const windows: Window[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 === 0 ? (['bare', 'service'] as const) : (['service', 'bare'] as const)) {
      process.stderr.write(`round ${round + 1}/${ROUNDS}: ${side}…\n`);
      const from = nowUs();
      const { completed } = await openLoop(side === 'bare' ? bare : priceUrl, RATE, SECONDS);
      windows.push({ side, from, to: nowUs(), completed });
    }
  }
  // The profiles are written as each process exits.
  await Promise.all([stopProcess(started.process), stopProcess(bareServer)]);

  const totals: Record<Side, Map<string, number>> = { bare: new Map(), service: new Map() };
  for (const file of readdirSync(dir)) {
    const pid = Number(file.split('.')[3]);
    const side: Side | undefined = pids.service.includes(pid)
      ? 'service'
      : pids.bare.includes(pid)
        ? 'bare'
        : undefined;
    if (side === undefined) continue;
    const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Profile;
    selfTime(
      profile,
      windows.filter((w) => w.side === side),
      totals[side],
      pid === primary ? '[primary] ' : '',
    );
  }
  const requests = (side: Side) =>
    windows.filter((w) => w.side === side).reduce((t, w) => t + w.completed, 0);
  const perRequest = (side: Side, name: string) =>
    (totals[side].get(name) ?? 0) / Math.max(1, requests(side));
  const names = [...new Set([...totals.bare.keys(), ...totals.service.keys()])].filter(
    (n) => !n.endsWith('(idle)'),
  );
  const busy = (side: Side) => names.reduce((t, n) => t + perRequest(side, n), 0);
  printSideBySide({
    heading: [
      `self time per request (µs), open loop at ${RATE} req/s, ${ROUNDS} windows of ${SECONDS}s per side`,
      `requests: service ${requests('service')}, bare ${requests('bare')}; profiles in ${dir}`,
    ],
    label: 'where',
    width: 60,
    digits: 2,
    rows: names.map((name) => [name, perRequest('service', name), perRequest('bare', name)] as const),
    total: ['all but (idle)', busy('service'), busy('bare')],
    most: 40,
    hideBelow: 0.05,
  });
}

runBenchScript(main);
