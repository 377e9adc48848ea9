/**
 * make test-load / make test-load-full: runs the load scenarios against the built service in production
 * shape, each on a fresh stack, and fails on any gate from monitoring/slo/slos.yml.
 *
 *   node dist/loadtest/src/run.js [--suite short|full|none] [--scenario NAME ...] [--self-test]
 *                                 [--reports DIR] [--impossible-latency]
 *
 * Exit code 0: every gate held; 1: a gate failed (or a self-test did); 2: the run could not be made.
 * Writes loadtest/reports/<time>/: Artillery's JSON, the generated scripts, logs, summary.json, report.html.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { load } from 'js-yaml';
import { REPO_ROOT, need, stopAll } from '../../scripts/lib/local-stack';
import { htmlReport, textSummary } from './report';
import { runScenario, SCENARIO_DIR, type ScenarioResult } from './run-scenario';
import { lintScript, type ArtilleryScript } from './scenario-plan';
import { SCENARIOS, scenarioNamed, type ScenarioSpec } from './scenarios';
import { runSelfTests } from './self-test';
import { gateThresholds } from './slo-gates';

/** Stands in for an OTLP collector so the service exports its traces for real; counts what arrives. */
async function startOtlpSink(): Promise<{ url: string; exports: () => number; close: () => void }> {
  let exports = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') exports++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exports: () => exports,
    close: () => server.close(),
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      suite: { type: 'string', default: 'short' },
      scenario: { type: 'string', multiple: true },
      'self-test': { type: 'boolean', default: false },
      reports: { type: 'string' },
      'impossible-latency': { type: 'boolean', default: false },
    },
  });
  need('redis-server', 'apt-get install -y redis-server');
  const thresholds = gateThresholds(readFileSync(path.join(REPO_ROOT, 'monitoring/slo/slos.yml'), 'utf8'));
  // For the gate's own test only: no latency can be below zero.
  if (values['impossible-latency']) thresholds.latency.thresholdMs = -1;

  let specs: ScenarioSpec[];
  if (values.scenario !== undefined) specs = values.scenario.map(scenarioNamed);
  else if (values.suite === 'short' || values.suite === 'full') {
    specs = SCENARIOS.filter((s) => s.suites.includes(values.suite as 'short' | 'full'));
  } else if (values.suite === 'none') specs = [];
  else throw new Error(`--suite must be short, full or none, not "${values.suite}"`);

  // A scenario file with a trap in it would pass or hang for the wrong reason: refuse to run it.
  const problems = SCENARIOS.flatMap((s) =>
    lintScript(load(readFileSync(path.join(SCENARIO_DIR, s.file), 'utf8')) as ArtilleryScript).map(
      (p) => `${s.file}: ${p}`,
    ),
  );
  if (problems.length > 0) {
    console.error(`scenario files with problems:\n  - ${problems.join('\n  - ')}`);
    return 2;
  }

  const startedAt = new Date();
  const runDir =
    values.reports ?? path.join(REPO_ROOT, 'loadtest/reports', startedAt.toISOString().replace(/[:.]/g, '-'));
  mkdirSync(runDir, { recursive: true });
  const sink = await startOtlpSink();
  const results: ScenarioResult[] = [];
  try {
    for (const spec of specs) {
      console.log(`\n== ${spec.name}: ${spec.proves}`);
      const result = await runScenario(spec, thresholds, runDir, sink.url);
      results.push(result);
      console.log(`${result.passed ? 'PASS' : 'FAIL'} ${spec.name} (${result.requests} requests)`);
    }
  } finally {
    sink.close();
  }

  let ok = results.every((r) => r.passed);
  if (specs.length > 0) {
    writeFileSync(
      path.join(runDir, 'summary.json'),
      JSON.stringify({ startedAt, thresholds, otlpExports: sink.exports(), results }, null, 2),
    );
    writeFileSync(path.join(runDir, 'report.html'), htmlReport(results, thresholds, startedAt));
    console.log(textSummary(results, thresholds, path.relative(process.cwd(), runDir) || runDir));
    console.log(`traces exported by the service over OTLP during the run: ${sink.exports()} requests`);
    console.log(`HTML report: ${path.join(runDir, 'report.html')}`);
  }
  if (values['self-test']) ok = (await runSelfTests(runDir)) && ok;
  return ok ? 0 : 1;
}

process.on('SIGINT', () => process.exit(130));
main()
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 2;
  })
  .finally(() => {
    stopAll();
    // Children get a moment to exit before this process does.
    setTimeout(() => process.exit(), 500).unref();
  });
