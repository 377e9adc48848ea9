/**
 * The pieces of a local run of the real service, shared by `make bench` and the load gates: child processes
 * that are stopped when the runner exits, a real redis-server, the mock exchange and the built service in its
 * production configuration (cluster, Redis L2, metrics, tracing SDK). Everything listens on 127.0.0.1.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort } from './free-port';

/** The checkout this file is in, whether it runs compiled (dist/scripts/lib) or from source (tests). */
export const REPO_ROOT = (() => {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'Makefile'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no Makefile above ${__dirname}`);
  }
})();
const children: ChildProcess[] = [];

/** Exits with 2 and a hint when a required program is not installed. */
export function need(command: string, hint: string): void {
  if (spawnSync(command, ['--version']).error) {
    console.error(`${command} not found: ${hint}`);
    process.exit(2);
  }
}

/**
 * Starts a child that is killed when this process exits. With `log`, the last 20 KB of its output is written
 * there when it exits (a service log to read after a failed run).
 */
export function startProcess(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  log?: string,
): ChildProcess {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    if (log !== undefined) output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('exit', () => {
    if (log !== undefined) writeFileSync(log, output);
  });
  children.push(child);
  return child;
}

/** SIGTERM to a child and wait for it to exit (SIGKILL after `timeoutMs`). */
export function stopProcess(child: ChildProcess, timeoutMs = 15_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(kill);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}

/** Stops every child still running (reverse start order); safe to call more than once. */
export function stopAll(): void {
  for (const child of children.splice(0).reverse()) if (child.exitCode === null) child.kill('SIGTERM');
}
process.on('exit', stopAll);

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 20_000,
  intervalMs = 10,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check().catch(() => false)) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) =>
    net
      .connect(port, '127.0.0.1')
      .once('connect', function (this: net.Socket) {
        this.destroy();
        resolve(true);
      })
      .once('error', () => resolve(false)),
  );
}

/** redis-server on loopback with nothing persisted: what every throwaway Redis here runs with. */
export function redisServerArgs(port: number): string[] {
  return ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
}

/** A throwaway redis-server (no persistence) on a free loopback port. */
export async function startRedisServer(): Promise<{ url: string; process: ChildProcess }> {
  need('redis-server', 'apt-get install -y redis-server');
  const port = await freePort();
  const child = startProcess('redis-server', redisServerArgs(port));
  await waitFor('redis', () => portOpen(port));
  return { url: `redis://127.0.0.1:${port}`, process: child };
}

/** The built mock exchange (dist/mock-exchange) on a free loopback port. */
export async function startMockExchangeProcess(): Promise<{ url: string; process: ChildProcess }> {
  const port = await freePort();
  const child = startProcess(process.execPath, [path.join(REPO_ROOT, 'dist/mock-exchange/src/main.js')], {
    MOCK_EXCHANGE_PORT: String(port),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('mock exchange', async () => (await fetch(`${url}/__control/health`)).ok);
  return { url, process: child };
}

export interface ServiceProcess {
  /** http://127.0.0.1:PORT */
  readonly api: string;
  readonly metricsUrl: string;
  readonly process: ChildProcess;
}

/**
 * The built service (dist/service) as production runs it, wired to the given Redis and mock exchange. Does
 * not wait for readiness: callers decide whether a cold start is part of what they measure.
 */
export async function startServiceProcess(options: {
  redisUrl: string;
  mockExchangeUrl: string;
  env?: Record<string, string>;
  nodeArgs?: string[];
  log?: string;
  /** Fixed ports, e.g. to point a load generator at a service that starts later; free ones otherwise. */
  ports?: { api: number; metrics: number };
}): Promise<ServiceProcess> {
  const [port, metricsPort] = options.ports
    ? [options.ports.api, options.ports.metrics]
    : await Promise.all([freePort(), freePort()]);
  const child = startProcess(
    process.execPath,
    [...(options.nodeArgs ?? []), path.join(REPO_ROOT, 'dist/service/src/main.js')],
    {
      WORKERS: '2',
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      REDIS_URL: options.redisUrl,
      MOCK_EXCHANGE_URL: options.mockExchangeUrl,
      LOG_LEVEL: 'info',
      ...options.env,
    },
    options.log,
  );
  return {
    api: `http://127.0.0.1:${port}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    process: child,
  };
}

export function waitForReadiness(service: ServiceProcess, timeoutMs = 20_000): Promise<number> {
  return waitFor(
    'service readiness',
    async () => (await fetch(`${service.api}/health/readiness`)).status === 200,
    timeoutMs,
  );
}
