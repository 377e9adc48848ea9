/**
 * Helpers for the live monitoring tests: the real clustered service (dist/, built by `make build`), a real
 * Prometheus on the repo's configuration and rules, and a parser for the text exposition format.
 * Every process is started on free ports and stopped by its own pid: SIGTERM, then SIGKILL after a grace.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { dump } from 'js-yaml';
import { eventually } from '../../service/test/helpers/metrics';
import { freePort } from '../../service/test/helpers/redis';
import { TEST_ENV } from '../../service/test/helpers/service';
import { SERVICE_JOB } from './known-metrics';
import { readYaml, repoPath } from './paths';

export const SERVICE_MAIN = repoPath('dist/service/src/main.js');
export const PROMETHEUS_CONFIG = repoPath('monitoring/prometheus/prometheus.yml');

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

// ---------------------------------------------------------------------------------------------------------
// Processes

export interface LiveProcess {
  readonly proc: ChildProcess;
  /** stdout and stderr so far, for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after graceMs; the same for any child it leaves behind (cluster workers). */
  stop(graceMs?: number): Promise<void>;
}

function running(proc: ChildProcess): boolean {
  return proc.exitCode === null && proc.signalCode === null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Direct children of a pid (the cluster primary's workers). */
function childPids(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  const result = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  return (result.stdout ?? '').split('\n').filter(Boolean).map(Number);
}

function launch(command: string, args: string[], env: NodeJS.ProcessEnv): LiveProcess {
  let output = '';
  const proc = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  proc.stdout?.on('data', append);
  proc.stderr?.on('data', append);
  // A missing binary surfaces as an 'error' event; keep it in the output instead of crashing the test.
  proc.on('error', (error) => (output += `\n[spawn error] ${error.message}`));
  const exited = new Promise<void>((done) => {
    if (!running(proc)) done();
    proc.once('exit', () => done());
    proc.once('error', () => done());
  });

  return {
    proc,
    output: () => output,
    async stop(graceMs = 3000) {
      const children = childPids(proc.pid);
      if (running(proc) && proc.pid !== undefined) {
        proc.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise<void>((done) => (timer = setTimeout(done, graceMs)))]);
        clearTimeout(timer);
        if (running(proc)) {
          proc.kill('SIGKILL');
          await exited;
        }
      }
      // Workers exit with their primary; any that did not within the grace period are killed.
      const deadline = Date.now() + graceMs;
      while (children.some(alive) && Date.now() < deadline) await sleep(50);
      for (const pid of children.filter(alive)) process.kill(pid, 'SIGKILL');
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// The service

export interface LiveService extends LiveProcess {
  readonly port: number;
  readonly metricsPort: number;
  /** A new TCP connection per request, so the cluster spreads requests over its workers. */
  request(path: string, method?: string): Promise<{ status: number; body: string }>;
  metricsText(): Promise<string>;
}

export function assertBuilt(): void {
  if (!existsSync(SERVICE_MAIN)) {
    throw new Error(
      `${SERVICE_MAIN} is missing: run \`npx tsc -p tsconfig.build.json\` (make test builds first)`,
    );
  }
}

/**
 * The real clustered service (dist/service/src/main.js) on free ports, with the fast test timings of
 * TEST_ENV, two workers and LOG_LEVEL=error unless `env` says otherwise. Resolves once /health/readiness
 * answers 200.
 */
export async function startLiveService(env: Record<string, string>): Promise<LiveService> {
  assertBuilt();
  const [port, metricsPort] = [await freePort(), await freePort()];
  const inherited = { ...process.env };
  // Only what the test asks for: no Redis or trace exporter leaking in from the caller's shell.
  delete inherited.REDIS_URL;
  delete inherited.OTEL_EXPORTER_OTLP_ENDPOINT;
  const child = launch(process.execPath, [SERVICE_MAIN], {
    ...inherited,
    ...TEST_ENV,
    WORKERS: '2',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    ...env,
    PORT: String(port),
    METRICS_PORT: String(metricsPort),
  });

  const request = (path: string, method = 'GET') =>
    new Promise<{ status: number; body: string }>((done, fail) => {
      const req = http.request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', fail);
      req.end();
    });

  const service: LiveService = {
    ...child,
    port,
    metricsPort,
    request,
    async metricsText() {
      const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
      return response.text();
    },
  };
  try {
    await eventually(
      async () => {
        if (!running(child.proc)) throw new Error(`the service exited early:\n${child.output()}`);
        return (await request('/health/readiness').catch(() => ({ status: 0 }))).status;
      },
      (status) => status === 200,
      // Deadlines, not waits: a loaded shared box has taken over 20 s to start the service.
      { timeoutMs: 60_000, intervalMs: 100, what: 'service readiness' },
    );
  } catch (error) {
    await child.stop(1000);
    throw new Error(`${(error as Error).message}\nservice output:\n${child.output()}`);
  }
  return service;
}

// ---------------------------------------------------------------------------------------------------------
// Text exposition format

export interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Exposition {
  /** Metric family → type, from the `# TYPE` lines (what the service declares it exports). */
  types: Map<string, string>;
  /** Every sample line. */
  series: Series[];
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;

export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const series: Series[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type !== null) types.set(type[1] as string, type[2] as string);
    if (line.startsWith('#') || line.trim() === '') continue;
    const match = SAMPLE_LINE.exec(line);
    if (match === null) continue;
    const labels = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    ) as Record<string, string>;
    series.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return { types, series };
}

const SERIES_SUFFIXES: Record<string, readonly string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
};

/**
 * The family a series name belongs to according to the `# TYPE` lines: itself if declared, else the
 * histogram (or summary) it is a _bucket/_sum/_count series of. Undefined when no declared family owns it.
 */
export function familyOf(exposition: Exposition, seriesName: string): string | undefined {
  if (exposition.types.has(seriesName)) return seriesName;
  for (const [family, type] of exposition.types) {
    const suffix = seriesName.slice(family.length);
    if (seriesName.startsWith(family) && (SERIES_SUFFIXES[type] ?? []).includes(suffix)) return family;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Prometheus

interface PrometheusConfig {
  global: Record<string, unknown>;
  rule_files: string[];
  scrape_configs: { job_name: string; [key: string]: unknown }[];
  [key: string]: unknown;
}

export interface LivePrometheus extends LiveProcess {
  readonly url: string;
  /** The parsed `data` of a GET on the HTTP API, e.g. api('/api/v1/alerts'). */
  api<T>(path: string): Promise<T>;
  /** The config file it runs with, for failure messages. */
  readonly configText: string;
}

export interface LiveConfigOptions {
  /** host:port of an Alertmanager to send alerts to (none when omitted, as before). */
  alertmanager?: string;
  /** Rule files loaded after the repo's, e.g. a test-only file with short `for:` copies of real alerts. */
  extraRuleFiles?: readonly string[];
}

/**
 * The repo's monitoring/prometheus/prometheus.yml made runnable here: the price-service job keeps its
 * metrics path and relabelling but scrapes `target` statically (instead of Docker DNS), every 1 s, rules
 * are evaluated every 1 s from the repo's own rule_files (resolved to absolute paths), and the jobs that
 * only exist in Compose are left out. With `alertmanager`, alerts go to that Alertmanager instead of the
 * Compose one (the alerting block's other settings are kept).
 */
export function liveConfig(target: string, options: LiveConfigOptions = {}): PrometheusConfig {
  const repo = readYaml<PrometheusConfig>(PROMETHEUS_CONFIG);
  const job = repo.scrape_configs.find((j) => j.job_name === 'price-service');
  if (job === undefined) throw new Error('prometheus.yml has no price-service job');
  const { dns_sd_configs: _dns, ...kept } = job;
  const alerting = repo.alerting as { alertmanagers: Record<string, unknown>[] } | undefined;
  return {
    global: { ...repo.global, scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: [
      ...repo.rule_files.map((f) => (isAbsolute(f) ? f : resolve(dirname(PROMETHEUS_CONFIG), f))),
      ...(options.extraRuleFiles ?? []),
    ],
    scrape_configs: [{ ...kept, static_configs: [{ targets: [target] }] }],
    ...(options.alertmanager && alerting
      ? {
          alerting: {
            ...alerting,
            alertmanagers: alerting.alertmanagers.map((am) => ({
              ...am,
              static_configs: [{ targets: [options.alertmanager] }],
            })),
          },
        }
      : {}),
  };
}

export interface StartPrometheusOptions extends LiveConfigOptions {
  /** --enable-feature flags, e.g. `exemplar-storage`, which the Compose stack runs with. */
  features?: readonly string[];
  /** More command-line flags, e.g. --rules.alert.resend-delay=1s. */
  flags?: readonly string[];
}

/** A real Prometheus on liveConfig(target, options). */
export async function startPrometheus(
  target: string,
  options: StartPrometheusOptions = {},
): Promise<LivePrometheus> {
  const which = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
  if (which.error) {
    throw new Error('prometheus is not installed: `apt-get install -y prometheus` (.ci/run installs it)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'price-prometheus-'));
  const configText = dump(liveConfig(target, options));
  writeFileSync(join(dir, 'prometheus.yml'), configText);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = launch(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
      ...(options.features ?? []).map((feature) => `--enable-feature=${feature}`),
      ...(options.flags ?? []),
    ],
    process.env,
  );

  async function api<T>(path: string): Promise<T> {
    const response = await fetch(`${url}${path}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? response.status}`);
    return body.data;
  }

  const prometheus: LivePrometheus = {
    ...child,
    url,
    api,
    configText,
    async stop(graceMs = 3000) {
      await child.stop(graceMs);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await eventually(
      async () => {
        if (!running(child.proc)) throw new Error(`prometheus exited early:\n${child.output()}`);
        return (await fetch(`${url}/-/ready`).catch(() => undefined))?.status ?? 0;
      },
      (status) => status === 200,
      { timeoutMs: 60_000, intervalMs: 100, what: 'prometheus /-/ready' },
    );
    // Ready means nothing to the tests until the service is being scraped.
    await eventually(
      async () => (await api<{ activeTargets: PrometheusTarget[] }>('/api/v1/targets')).activeTargets,
      (targets) => targets.some((t) => t.labels.job === SERVICE_JOB && t.health === 'up'),
      { timeoutMs: 60_000, intervalMs: 250, what: 'the price-service target up' },
    );
  } catch (error) {
    await prometheus.stop(1000);
    throw new Error(`${(error as Error).message}\nconfig:\n${configText}\noutput:\n${child.output()}`);
  }
  return prometheus;
}

// ---------------------------------------------------------------------------------------------------------
// Alertmanager

export interface LiveAlertmanager extends LiveProcess {
  /** host:port, for Prometheus's alerting config. */
  readonly address: string;
  readonly url: string;
  /** The parsed body of a GET on the v2 API, e.g. api('/api/v2/alerts'). */
  api<T>(path: string): Promise<T>;
  readonly configText: string;
}

/**
 * A real Alertmanager (Debian's prometheus-alertmanager) on a free port with `config` as its configuration,
 * clustering off (no gossip port), its data in a temporary directory.
 */
export async function startAlertmanager(config: unknown): Promise<LiveAlertmanager> {
  const which = spawnSync('prometheus-alertmanager', ['--version'], { encoding: 'utf8' });
  if (which.error) {
    throw new Error(
      'prometheus-alertmanager is not installed: `apt-get install -y prometheus-alertmanager` (.ci/run installs it)',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'price-alertmanager-'));
  const configText = dump(config);
  writeFileSync(join(dir, 'alertmanager.yml'), configText);
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const url = `http://${address}`;
  const child = launch(
    'prometheus-alertmanager',
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=${address}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    process.env,
  );
  const alertmanager: LiveAlertmanager = {
    ...child,
    address,
    url,
    configText,
    async api<T>(path: string) {
      const response = await fetch(`${url}${path}`);
      if (!response.ok) throw new Error(`${path}: ${response.status}`);
      return (await response.json()) as T;
    },
    async stop(graceMs = 3000) {
      await child.stop(graceMs);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await eventually(
      async () => {
        if (!running(child.proc)) throw new Error(`alertmanager exited early:\n${child.output()}`);
        return (await fetch(`${url}/-/ready`).catch(() => undefined))?.status ?? 0;
      },
      (status) => status === 200,
      { timeoutMs: 60_000, intervalMs: 100, what: 'alertmanager /-/ready' },
    );
  } catch (error) {
    await alertmanager.stop(1000);
    throw new Error(`${(error as Error).message}\nconfig:\n${configText}\noutput:\n${child.output()}`);
  }
  return alertmanager;
}

/** One entry of Prometheus's /api/v1/targets. */
export interface PrometheusTarget {
  labels: Record<string, string>;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}
