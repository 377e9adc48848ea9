import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { freePort } from '../../../scripts/lib/free-port';
import { eventually } from './metrics';
import { TEST_ENV } from './service';

/** The built entry point: `make test` builds first. */
export const MAIN = path.resolve(__dirname, '../../../dist/service/src/main.js');

export interface TestCluster {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly metricsPort: number;
  /** http://127.0.0.1:port */
  readonly url: string;
  /** Resolves with the exit code once the primary has exited (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Everything the cluster wrote to stdout and stderr so far. */
  output(): string;
  metricsText(): Promise<string>;
  /** Lines of the JSON log whose msg is `msg`, parsed. */
  logLines<T = Record<string, unknown>>(msg: string): T[];
  /** SIGKILL, unless it has exited already. */
  kill(): void;
}

/**
 * The built service in its clustered form (node:cluster primary and WORKERS workers) on free ports, with the
 * test settings, the caller's `env` over them, and returned once readiness answers 200. A new TCP connection
 * per readiness probe, so a busy box is given `readyTimeoutMs` before the start counts as failed.
 */
export async function spawnCluster(
  env: Record<string, string>,
  options: { readyTimeoutMs?: number } = {},
): Promise<TestCluster> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  let output = '';
  const proc = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      ...TEST_ENV,
      WORKERS: '2',
      // The mock exchange answers from the jest worker, busy itself: the test settings' 1 s freshness would let
      // a loaded box turn quotes stale and the price unavailable, in tests that are about the cluster.
      UPSTREAM_TIMEOUT_MS: '3000',
      MAX_SOURCE_AGE_MS: '10000',
      CACHE_TTL: '10',
      MAX_STALENESS: '30',
      ...env,
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const cluster: TestCluster = {
    proc,
    port,
    metricsPort,
    url: `http://127.0.0.1:${port}`,
    exited,
    output: () => output,
    metricsText: async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(),
    logLines: <T>(msg: string) =>
      output
        .split('\n')
        .filter((line) => line.includes(`"msg":${JSON.stringify(msg)}`))
        .map((line) => JSON.parse(line) as T),
    kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
  try {
    await eventually(
      async () => {
        if (proc.exitCode !== null) throw new Error(`the cluster exited ${proc.exitCode}`);
        return readiness(port);
      },
      (status) => status === 200,
      { what: 'cluster ready', timeoutMs: options.readyTimeoutMs ?? 60_000 },
    );
    // Ready means one worker answers. Each worker has a listening socket of its own (SO_REUSEPORT), and
    // until the others listen the first takes every connection: tests about the cluster wait for all.
    const workers = Number(env.WORKERS ?? 2);
    await eventually(
      async () => listeningSockets(port),
      (n) => n === undefined || n >= workers,
      { what: `${workers} workers listening`, timeoutMs: options.readyTimeoutMs ?? 60_000 },
    );
  } catch (error) {
    cluster.kill();
    throw new Error(`${(error as Error).message}\noutput:\n${output}`);
  }
  return cluster;
}

/** A GET over a new TCP connection, so that requests spread over the workers (each its own SO_REUSEPORT socket). */
export function requestOnNewConnection(
  port: number,
  urlPath: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

/** Listening sockets on the port, from ss (undefined where there is no ss: the wait is skipped). */
function listeningSockets(port: number): number | undefined {
  const ss = spawnSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' });
  if (ss.status !== 0) return undefined;
  return ss.stdout.split('\n').filter((line) => line.trim() !== '').length;
}

/** The readiness status over a connection of its own (0 when refused: not listening yet). */
function readiness(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/health/readiness', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
  });
}
