/**
 * The processes of a chaos run, on top of scripts/lib/local-stack.ts (its startProcess, stopProcess, waitFor
 * and mock exchange, so every child is stopped when the runner exits): a redis-server that can be killed,
 * paused and started again on the same port, and replicas of the built service on fixed ports (a rolling
 * restart brings a replica back where the load generator expects it).
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort } from '../../../scripts/lib/free-port';
import {
  need,
  redisServerArgs,
  REPO_ROOT,
  startProcess,
  stopProcess,
  waitFor,
} from '../../../scripts/lib/local-stack';

const compiled = __filename.endsWith('.js');
export const SERVICE_MAIN = path.join(REPO_ROOT, 'dist/service/src/main.js');
export const MOCK_MAIN = path.join(REPO_ROOT, 'dist/mock-exchange/src/main.js');
/** The clock-skew preload, always a compiled one: the service runs from dist. */
export const CLOCK_SKEW_PRELOAD = compiled
  ? path.join(__dirname, 'clock-skew.js')
  : path.join(REPO_ROOT, 'dist/service/test/chaos/clock-skew.js');

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface ChaosRedis {
  readonly url: string;
  readonly port: number;
  readonly process: () => ChildProcess;
  /** SIGKILL: clients see the connection drop. */
  kill(): Promise<void>;
  /** A fresh, empty redis-server on the same port. */
  start(): Promise<void>;
  /** SIGSTOP: connections stay open, nothing answers. */
  pause(): void;
  resume(): void;
}

export async function startChaosRedis(): Promise<ChaosRedis> {
  need('redis-server', 'apt-get install -y redis-server');
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = startProcess('redis-server', redisServerArgs(port));
    await waitFor('redis', () => portOpen(port));
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    process: () => child as ChildProcess,
    async kill() {
      const proc = child as ChildProcess;
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGKILL');
      });
    },
    start,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
  };
}

export interface Replica {
  readonly name: string;
  readonly api: string;
  readonly metricsTarget: string;
  readonly port: number;
  readonly process: () => ChildProcess;
  /** The file the clock-skew preload reads its offset (ms) from. */
  readonly skewFile: string;
  start(): Promise<void>;
  /** SIGTERM to the primary (the drain) and wait for it to exit; resolves its exit code. */
  stop(): Promise<number | null>;
  /** Pids of the primary's workers. */
  workerPids(): number[];
  setSkew(ms: number): void;
  /** The last 20 KB of its output, written when it exits. */
  readonly log: string;
}

/**
 * One replica of the built service (WORKERS=2 unless env says otherwise) on fixed ports, with the
 * clock-skew preload (offset 0 until setSkew). start() resolves once readiness answers 200.
 */
export async function createReplica(options: {
  name: string;
  redisUrl: string;
  mockUrl: string;
  env: Record<string, string>;
  logDir: string;
}): Promise<Replica> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const skewFile = path.join(options.logDir, `${options.name}.skew`);
  const log = path.join(options.logDir, `${options.name}.log`);
  writeFileSync(skewFile, '0');
  const api = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const replica: Replica = {
    name: options.name,
    api,
    port,
    metricsTarget: `127.0.0.1:${metricsPort}`,
    skewFile,
    log,
    process: () => child as ChildProcess,
    async start() {
      child = startProcess(
        process.execPath,
        ['--require', CLOCK_SKEW_PRELOAD, SERVICE_MAIN],
        {
          WORKERS: '2',
          HOST: '127.0.0.1',
          LOG_LEVEL: 'warn',
          ...options.env,
          PORT: String(port),
          METRICS_PORT: String(metricsPort),
          REDIS_URL: options.redisUrl,
          MOCK_EXCHANGE_URL: options.mockUrl,
          CHAOS_CLOCK_SKEW_FILE: skewFile,
        },
        log,
      );
      const proc = child;
      await waitFor(
        `${options.name} readiness`,
        async () => {
          if (proc.exitCode !== null) throw new Error(`${options.name} exited early (see ${log})`);
          return (await fetch(`${api}/health/readiness`)).status === 200;
        },
        30_000,
        50,
      );
    },
    stop: () => (child === undefined ? Promise.resolve(null) : stopProcess(child, 15_000)),
    workerPids() {
      const pid = child?.pid;
      if (pid === undefined) return [];
      const out = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout ?? '';
      return out.split('\n').filter(Boolean).map(Number);
    },
    setSkew(ms: number) {
      writeFileSync(skewFile, String(ms));
    },
  };
  return replica;
}
