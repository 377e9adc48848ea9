/**
 * One scenario, end to end: a fresh stack (real Redis, the mock exchange, the built service in production
 * shape with tracing exported), the service's histogram scraped before, Artillery run with the gates from
 * slos.yml, faults or a cold start on the scenario's timeline, the histogram scraped after, every check.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dump, load } from 'js-yaml';
import { freePort } from '../../scripts/lib/free-port';
import {
  REPO_ROOT,
  startMockExchangeProcess,
  startRedisServer,
  startServiceProcess,
  stopProcess,
  waitForReadiness,
  type ServiceProcess,
} from '../../scripts/lib/local-stack';
import { counter, countersUnder, type ArtilleryReport } from './artillery-report';
import { planOf, type ArtilleryScript, type ScenarioPlan } from './scenario-plan';
import type { ScenarioSpec } from './scenarios';
import {
  bucketsApart,
  histogramDelta,
  priceRouteHistogram,
  quantile,
  total,
  type Histogram,
} from './server-histogram';
import { ensureBlock, evaluate, type Check, type GateThresholds } from './slo-gates';
import { openStreamSubscribers, streamChecks, type StreamFigures } from './stream-subscribers';

export const SCENARIO_DIR = path.join(REPO_ROOT, 'loadtest/scenarios');
const ARTILLERY = path.join(REPO_ROOT, 'loadtest/node_modules/artillery/bin/run');

export interface ScenarioResult {
  name: string;
  proves: string;
  passed: boolean;
  checks: Check[];
  plan: ScenarioPlan;
  activeSeconds: number;
  requests: number;
  /** Responses per second over the active time, and the busiest 10 s window's rate. */
  sustainedRps: number;
  peakRps: number;
  client: { p50: number; p95: number; p99: number; max: number };
  /** From the price route's histogram delta; NaN when the service recorded nothing. */
  server: { requests: number; p50Ms: number; p95Ms: number; p99Ms: number; byStatus: Record<string, number> };
  /** Client p99 and server p99 more than one histogram bucket apart. */
  divergence: { buckets: number; flagged: boolean };
  codes: Record<string, number>;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  artillery: { exitCode: number | null; ensure: string[] };
  events: string[];
  rssMb?: { before: number; after: number };
  streams?: StreamFigures;
  files: { report: string; script: string; log: string; serviceLog: string };
  report: ArtilleryReport;
}

async function scrape(url: string): Promise<string> {
  return (await fetch(url)).text();
}

function rssMb(exposition: string): number {
  const match = /^process_resident_memory_bytes(?:\{[^}]*\})?\s+(\S+)/m.exec(exposition);
  return match === null ? NaN : Number(match[1]) / 2 ** 20;
}

/** The scenario file with the run's target and the gates added; kept beside the report for a rerun by hand. */
export function generatedScript(
  spec: ScenarioSpec,
  target: string,
  thresholds: GateThresholds,
): { script: ArtilleryScript; text: string } {
  const script = load(readFileSync(path.join(SCENARIO_DIR, spec.file), 'utf8')) as ArtilleryScript;
  script.config.target = target;
  if (script.config.processor !== undefined) {
    script.config.processor = path.resolve(
      path.dirname(path.join(SCENARIO_DIR, spec.file)),
      script.config.processor,
    );
  }
  script.config.plugins = {
    ...script.config.plugins,
    ensure: ensureBlock(thresholds, { allowFailedUsers: spec.coldStartAfterSeconds !== undefined }),
  };
  return { script, text: dump(script, { lineWidth: 120 }) };
}

export async function runScenario(
  spec: ScenarioSpec,
  thresholds: GateThresholds,
  runDir: string,
  otlpEndpoint: string,
): Promise<ScenarioResult> {
  const files = {
    report: path.join(runDir, `${spec.name}.json`),
    script: path.join(runDir, `${spec.name}.yml`),
    log: path.join(runDir, `${spec.name}.artillery.log`),
    serviceLog: path.join(runDir, `${spec.name}.service.log`),
  };
  const failuresFile = path.join(runDir, `${spec.name}.5xx.txt`);
  writeFileSync(failuresFile, '');
  const events: string[] = [];
  const redis = await startRedisServer();
  const mock = await startMockExchangeProcess();
  const ports = { api: await freePort(), metrics: await freePort() };
  let service: ServiceProcess | undefined;
  const startService = () =>
    startServiceProcess({
      redisUrl: redis.url,
      mockExchangeUrl: mock.url,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint, ...spec.serviceEnv },
      log: files.serviceLog,
      ports,
    });

  let before: Histogram | undefined;
  let rssBefore = NaN;
  if (spec.coldStartAfterSeconds === undefined) {
    service = await startService();
    await waitForReadiness(service);
    const text = await scrape(service.metricsUrl);
    before = priceRouteHistogram(text);
    rssBefore = rssMb(text);
  }

  const target = `http://127.0.0.1:${ports.api}`;
  const { script, text } = generatedScript(spec, target, thresholds);
  writeFileSync(files.script, text);
  const plan = planOf(script);

  const streams =
    spec.streamSubscribers === undefined
      ? undefined
      : openStreamSubscribers(`${target}/api/v1/prices/eth-usdt/stream`, spec.streamSubscribers);
  let readyAt: number | undefined;
  const timers: NodeJS.Timeout[] = [];
  const onFirstPhase = (startedAt: number) => {
    events.push(`first phase started ${new Date(startedAt).toISOString()}`);
    for (const f of spec.faults ?? []) {
      timers.push(
        setTimeout(() => {
          const url = `${mock.url}/__control/faults/${encodeURIComponent(f.source)}`;
          const request =
            f.fault === null
              ? fetch(url, { method: 'DELETE' })
              : fetch(url, { method: 'PUT', body: JSON.stringify(f.fault) });
          void request.then(
            (r) => events.push(`+${f.atSeconds}s mock ${f.source}: ${JSON.stringify(f.fault)} → ${r.status}`),
            (e: Error) => events.push(`+${f.atSeconds}s mock ${f.source}: failed (${e.message})`),
          );
        }, f.atSeconds * 1000),
      );
    }
    if (spec.coldStartAfterSeconds !== undefined) {
      const after = spec.coldStartAfterSeconds;
      timers.push(
        setTimeout(() => {
          events.push(`+${after}s service started (L1 and L2 empty)`);
          void startService().then(async (started) => {
            service = started;
            // Polled every 10 ms: readyAt is at most that late, so a 5xx sent after it was sent after readiness.
            const readyMs = await waitForReadiness(started, 30_000);
            readyAt = Date.now();
            events.push(`service ready ${readyMs.toFixed(0)} ms after its start`);
          });
        }, after * 1000),
      );
    }
  };

  const artillery = await new Promise<{ exitCode: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, [ARTILLERY, 'run', files.script, '--output', files.report], {
      env: {
        ...process.env,
        ARTILLERY_DISABLE_TELEMETRY: 'true',
        LOADTEST_FAILURES_FILE: failuresFile,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let started = false;
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      if (!started && output.includes('Phase started')) {
        started = true;
        onFirstPhase(Date.now());
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('exit', (exitCode) => resolve({ exitCode, output }));
  });
  timers.forEach(clearTimeout);
  writeFileSync(files.log, artillery.output);
  const streamFigures = streams?.close();

  let server: ScenarioResult['server'] = { requests: 0, p50Ms: NaN, p95Ms: NaN, p99Ms: NaN, byStatus: {} };
  let rssAfter = NaN;
  let bounds: number[] = [];
  if (service !== undefined) {
    const textAfter = await scrape(service.metricsUrl).catch(() => '');
    rssAfter = rssMb(textAfter);
    const delta = histogramDelta(priceRouteHistogram(textAfter), before);
    bounds = delta.bounds;
    server = {
      requests: total(delta),
      p50Ms: quantile(delta, 0.5) * 1000,
      p95Ms: quantile(delta, 0.95) * 1000,
      p99Ms: quantile(delta, 0.99) * 1000,
      byStatus: delta.byStatus,
    };
    const exitCode = await stopProcess(service.process);
    events.push(`service stopped with exit code ${exitCode}`);
  }
  await Promise.all([stopProcess(mock.process), stopProcess(redis.process)]);

  const report = JSON.parse(readFileSync(files.report, 'utf8')) as ArtilleryReport;
  const checks = evaluate(report, thresholds, {
    plan,
    allow4xx: spec.allow4xx,
    // Before a cold service listens there is nothing to connect to: refusals then are the scenario's premise.
    allowedErrors: spec.coldStartAfterSeconds === undefined ? [] : ['ECONNREFUSED'],
  });
  const a = report.aggregate;
  if (spec.mustSeeStatus !== undefined) {
    const seen = counter(a, `price.status.${spec.mustSeeStatus}`);
    checks.push({
      name: `responses said "${spec.mustSeeStatus}"`,
      ok: seen > 0,
      limit: '> 0',
      actual: String(seen),
      margin: seen > 0 ? '' : 'the fault never showed in a response',
    });
  }
  if (spec.mustEndWithStatus !== undefined) {
    const windows = [...report.intermediate].sort((x, y) => Number(x.period) - Number(y.period));
    const last = windows.at(-1);
    const seen = last === undefined ? 0 : counter(last, `price.status.${spec.mustEndWithStatus}`);
    checks.push({
      name: `last 10 s said "${spec.mustEndWithStatus}" again`,
      ok: seen > 0,
      limit: '> 0',
      actual: `${seen} of ${last === undefined ? 0 : counter(last, 'http.responses')}`,
      margin: seen > 0 ? '' : 'no recovery by the end of the run',
    });
  }
  if (spec.coldStartAfterSeconds !== undefined) {
    const lines = readFileSync(failuresFile, 'utf8').split('\n').filter(Boolean);
    const afterReady =
      readyAt === undefined
        ? lines.length
        : lines.filter((l) => Number(l.split(' ')[0]) > (readyAt as number)).length;
    checks.push({
      name: '5xx sent after readiness was 200',
      ok: readyAt !== undefined && afterReady === 0,
      limit: '0',
      actual: `${afterReady} (${lines.length} 5xx in all)`,
      margin: readyAt === undefined ? 'the service never became ready' : '',
    });
  }
  if (streamFigures !== undefined) checks.push(...streamChecks(streamFigures, plan.plannedSeconds));
  const ensure = artillery.output
    .split('\n')
    .filter((l) => /^\s*(ok|fail): /.test(l))
    .map((l) => l.trim());
  checks.push({
    name: "Artillery's own ensure",
    ok: artillery.exitCode === 0 && !ensure.some((l) => l.startsWith('fail')),
    limit: 'exit 0',
    actual: `exit ${artillery.exitCode}`,
    margin: ensure.filter((l) => l.startsWith('fail')).join('; '),
  });

  const summary = a.summaries['http.response_time'];
  const client = {
    p50: summary?.p50 ?? NaN,
    p95: summary?.p95 ?? NaN,
    p99: summary?.p99 ?? NaN,
    max: summary?.max ?? NaN,
  };
  const apart =
    bounds.length > 0 && Number.isFinite(server.p99Ms)
      ? bucketsApart(bounds, client.p99 / 1000, server.p99Ms / 1000)
      : 0;
  const active = (a.lastCounterAt ?? 0) - (a.firstCounterAt ?? 0);
  const requests = counter(a, 'http.requests');
  return {
    name: spec.name,
    proves: spec.proves,
    passed: checks.every((c) => c.ok),
    checks,
    plan,
    activeSeconds: active / 1000,
    requests,
    sustainedRps: active > 0 ? (counter(a, 'http.responses') * 1000) / active : 0,
    peakRps: Math.max(0, ...report.intermediate.map((w) => w.rates['http.request_rate'] ?? 0)),
    client,
    server,
    divergence: { buckets: apart, flagged: apart > 1 },
    codes: countersUnder(a, 'http.codes.'),
    statuses: countersUnder(a, 'price.status.'),
    errors: countersUnder(a, 'errors.'),
    artillery: { exitCode: artillery.exitCode, ensure },
    events,
    rssMb:
      Number.isFinite(rssBefore) || Number.isFinite(rssAfter)
        ? { before: rssBefore, after: rssAfter }
        : undefined,
    streams: streamFigures,
    files,
    report,
  };
}
