/**
 * What the profiling scripts share: both sides started alike, their side-by-side table (service, bare,
 * difference) and their exit.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../scripts/lib/free-port';
import {
  startMockExchangeProcess,
  startRedisServer,
  startServiceProcess,
  stopAll,
  waitForReadiness,
} from '../../scripts/lib/local-stack';
import { startBareBaseline } from './bare-baseline';
import { fmt } from './measure';

/**
 * Redis, the mock exchange, the service as production runs it (with `nodeArgs` on its primary, which its
 * workers inherit) and the bare baseline beside it, the price URL of each; `tmp` holds their files.
 */
export async function startBothSides(options: {
  readonly tmpPrefix: string;
  readonly workers: number;
  readonly nodeArgs: (tmp: string) => string[];
  readonly bareWorkerFlags?: (serviceWorkerFlags: string[]) => string[];
}) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), options.tmpPrefix));
  const redis = await startRedisServer();
  const mock = await startMockExchangeProcess();
  const service = await startServiceProcess({
    redisUrl: redis.url,
    mockExchangeUrl: mock.url,
    env: { WORKERS: String(options.workers), REFRESH_INTERVAL_MS: '1000' },
    nodeArgs: options.nodeArgs(tmp),
    log: path.join(tmp, 'service.log'),
  });
  await waitForReadiness(service);
  const priceUrl = `${service.api}/api/v1/prices/eth-usdt`;
  const { bareServer, bare } = await startBareBaseline({
    priceUrl,
    servicePid: service.process.pid,
    port: await freePort(),
    workers: options.workers,
    intervalMs: 1000,
    maxBufferedBytes: 65_536,
    tmp,
    workerFlags: options.bareWorkerFlags,
  });
  return { tmp, service, priceUrl, bareServer, bare };
}

export type SideBySideRow = readonly [name: string, service: number, bare: number];

/** Rows largest difference first, then the total; rows under `hideBelow` on both sides are left out. */
export function printSideBySide(options: {
  readonly heading: readonly string[];
  readonly label: string;
  readonly width: number;
  readonly digits: number;
  readonly rows: readonly SideBySideRow[];
  readonly total: SideBySideRow;
  readonly most: number;
  readonly hideBelow?: number;
}): void {
  const { width, digits } = options;
  const line = ([name, service, bare]: SideBySideRow) =>
    `${name.slice(0, width).padEnd(width)} | ${fmt(service, digits).padStart(7)} | ${fmt(bare, digits).padStart(7)} | ${fmt(service - bare, digits).padStart(10)}`;
  console.log(`\n${options.heading.join('\n')}`);
  console.log(`${options.label.padEnd(width)} | service |    bare | difference`);
  const sorted = [...options.rows].sort((a, b) => Math.abs(b[1] - b[2]) - Math.abs(a[1] - a[2]));
  for (const row of sorted.slice(0, options.most)) {
    if (Math.max(row[1], row[2]) < (options.hideBelow ?? -Infinity)) continue;
    console.log(line(row));
  }
  console.log(line(options.total));
}

/** Runs a profiling script: its error is printed and the exit code set; the processes it started stop. */
export function runBenchScript(main: () => Promise<void>): void {
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
}
