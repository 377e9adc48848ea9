/**
 * What each side's workers allocate per request in the open loop, and where: the young generation's
 * scavenges are the largest CPU item the service has above the bare baseline (docs/performance.md), and
 * they are paid per byte allocated. Both sides' workers run with the inspector; V8's sampling heap profiler
 * runs on every worker during BENCH_SECONDS (10) of open-loop load at BENCH_RATE (5000) req/s per side,
 * keeping the samples of objects already collected (the short-lived ones are the point), and the sampled
 * bytes are summed by the function that allocated them, per request completed.
 * Usage: make build && node dist/service/bench/profile-allocations.js (needs redis-server)
 */
import { spawnSync } from 'node:child_process';
import { stopProcess } from '../../scripts/lib/local-stack';
import { childPids } from './measure';
import { openLoop } from './open-loop-process';
import { printSideBySide, runBenchScript, startBothSides } from './side-by-side';

const RATE = Number(process.env.BENCH_RATE ?? 5000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WORKERS = Number(process.env.WORKERS ?? 2);
const SAMPLING_BYTES = 512;

interface SamplingNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children: SamplingNode[];
}
interface SamplingProfile {
  head: SamplingNode;
  samples: { size: number; nodeId: number }[];
}

/** A Chrome DevTools Protocol session on one process's inspector. */
async function inspect(port: number) {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const socket = new WebSocket(targets[0]?.webSocketDebuggerUrl ?? '');
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  let next = 0;
  const pending = new Map<number, (result: unknown) => void>();
  socket.onmessage = (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  };
  return {
    send<T>(method: string, params: object = {}): Promise<T> {
      const id = ++next;
      return new Promise((resolve) => {
        pending.set(id, resolve as (result: unknown) => void);
        socket.send(JSON.stringify({ id, method, params }));
      });
    },
    close: () => socket.close(),
  };
}

/** The inspector ports a process listens on (its worker's `--inspect-port` is chosen by the cluster). */
function inspectorPort(pid: string): number {
  const out = spawnSync('ss', ['-Hltnp'], { encoding: 'utf8' }).stdout;
  for (const line of out.split('\n')) {
    if (!line.includes(`pid=${pid},`)) continue;
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(line)?.[1]);
    if (port >= 9200 && port < 9400) return port;
  }
  throw new Error(`no inspector port for ${pid}:\n${out}`);
}

/** Sampled bytes by allocating function (`file:line name`), summed over the profiles. */
function bytesByFunction(profiles: SamplingProfile[]): Map<string, number> {
  const into = new Map<string, number>();
  for (const profile of profiles) {
    const names = new Map<number, string>();
    const walk = (node: SamplingNode) => {
      const { functionName, url, lineNumber } = node.callFrame;
      const file = /\/dist\/(.*)\.js$/.exec(url)?.[1] ?? /node_modules\/(.*)$/.exec(url)?.[1] ?? url;
      names.set(node.id, `${file || '(native)'}:${lineNumber + 1} ${functionName || '(anonymous)'}`);
      node.children.forEach(walk);
    };
    walk(profile.head);
    for (const { size, nodeId } of profile.samples) {
      const name = names.get(nodeId) ?? '?';
      into.set(name, (into.get(name) ?? 0) + size);
    }
  }
  return into;
}

async function profileSide(
  url: string,
  workerPids: string[],
): Promise<{ requests: number; bytes: Map<string, number> }> {
  const sessions = await Promise.all(workerPids.map((pid) => inspect(inspectorPort(pid))));
  const samplingParams = {
    samplingInterval: SAMPLING_BYTES,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  };
  await Promise.all(sessions.map((s) => s.send('HeapProfiler.startSampling', samplingParams)));
  const { completed } = await openLoop(url, RATE, SECONDS);
  const profiles = await Promise.all(
    sessions.map((s) => s.send<{ profile: SamplingProfile }>('HeapProfiler.stopSampling')),
  );
  sessions.forEach((s) => s.close());
  return { requests: completed, bytes: bytesByFunction(profiles.map((p) => p.profile)) };
}

async function main(): Promise<void> {
  const { service, priceUrl, bareServer, bare } = await startBothSides({
    tmpPrefix: 'bench-allocations-',
    workers: WORKERS,
    // The primary's port; the cluster gives each worker the next one.
    nodeArgs: () => ['--inspect=127.0.0.1:9300'],
    // The service workers' flags but an inspector of their own (the cluster picks its port).
    bareWorkerFlags: (flags) => [...flags.filter((f) => !f.startsWith('--inspect')), '--inspect=127.0.0.1:0'],
  });
  process.stderr.write('warm-up…\n');
  await openLoop(bare, RATE, 3);
  await openLoop(priceUrl, RATE, 3);
  const sides = {
    service: await profileSide(priceUrl, childPids(service.process.pid)),
    bare: await profileSide(bare, childPids(bareServer.pid)),
  };
  await Promise.all([stopProcess(service.process), stopProcess(bareServer)]);

  const perRequest = (side: keyof typeof sides, name: string) =>
    (sides[side].bytes.get(name) ?? 0) / Math.max(1, sides[side].requests);
  const total = (side: keyof typeof sides) =>
    [...sides[side].bytes.values()].reduce((a, b) => a + b, 0) / Math.max(1, sides[side].requests);
  const names = [...new Set([...sides.service.bytes.keys(), ...sides.bare.bytes.keys()])];
  printSideBySide({
    heading: [
      `bytes allocated per request by the workers (sampled every ${SAMPLING_BYTES} B, collected objects included), open loop at ${RATE} req/s, ${SECONDS}s per side`,
      `requests: service ${sides.service.requests}, bare ${sides.bare.requests}`,
    ],
    label: 'allocated in',
    width: 80,
    digits: 0,
    rows: names.map((name) => [name, perRequest('service', name), perRequest('bare', name)] as const),
    total: ['all', total('service'), total('bare')],
    most: 30,
  });
}

runBenchScript(main);
