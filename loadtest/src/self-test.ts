/**
 * The gate's own tests: a gate that cannot fail proves nothing. Each case runs the real runner on a scenario
 * that must fail (an impossible threshold, 5xx that really reach clients, a generator that falls behind) and
 * expects exit code 1 with the named check failed, and where the threshold is Artillery's too, its own ensure
 * failed as well.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ScenarioResult } from './run-scenario';

interface SelfTestCase {
  name: string;
  args: string[];
  /** The check that must have failed. */
  failedCheck: string;
  /** Artillery's ensure block must have failed too (the threshold is one Artillery can see). */
  artilleryFails: boolean;
  /** The service itself recorded 5xx: they were answers, not a generator artefact. */
  serverSaw5xx?: boolean;
}

const CASES: SelfTestCase[] = [
  {
    name: 'an impossible latency threshold fails the gate',
    args: ['--scenario', 'smoke', '--impossible-latency'],
    failedCheck: 'latency p99 (SLO)',
    artilleryFails: true,
  },
  {
    name: '5xx that reach clients fail the gate',
    args: ['--scenario', 'upstream-outage'],
    failedCheck: '5xx share (SLO)',
    artilleryFails: true,
    serverSaw5xx: true,
  },
  {
    name: 'a generator that fell behind makes the run invalid',
    args: ['--scenario', 'overload'],
    failedCheck: 'generator kept up',
    artilleryFails: false,
  },
];

function runGate(args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'run.js'), ...args], { stdio: 'inherit' });
    child.on('exit', (code) => resolve(code));
  });
}

export async function runSelfTests(runDir: string): Promise<boolean> {
  let passed = 0;
  const failures: string[] = [];
  for (const [index, c] of CASES.entries()) {
    const dir = path.join(runDir, `self-test-${index + 1}`);
    console.log(`\n== self-test ${index + 1}/${CASES.length}: ${c.name} (this run must FAIL)`);
    const exitCode = await runGate([...c.args, '--reports', dir]);
    const problems: string[] = [];
    if (exitCode !== 1) problems.push(`exit code ${exitCode}, expected 1`);
    let results: ScenarioResult[] = [];
    try {
      results = (
        JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8')) as { results: ScenarioResult[] }
      ).results;
    } catch (error) {
      problems.push(`no summary.json: ${(error as Error).message}`);
    }
    const result = results[0];
    const check = result?.checks.find((x) => x.name === c.failedCheck);
    if (result !== undefined && (check === undefined || check.ok)) {
      problems.push(`check "${c.failedCheck}" did not fail`);
    }
    const ensure = result?.checks.find((x) => x.name === "Artillery's own ensure");
    if (result !== undefined && c.artilleryFails && ensure?.ok !== false) {
      problems.push("Artillery's own ensure block passed");
    }
    const server5xx = Object.entries(result?.server.byStatus ?? {})
      .filter(([status]) => status.startsWith('5'))
      .reduce((sum, [, n]) => sum + n, 0);
    if (result !== undefined && c.serverSaw5xx && server5xx === 0)
      problems.push('the service recorded no 5xx');
    if (problems.length === 0) {
      passed++;
      console.log(
        `ok - ${c.name}: exit ${exitCode}, "${c.failedCheck}" failed with ${check?.actual}` +
          (c.serverSaw5xx ? `; the service answered ${server5xx} 5xx` : ''),
      );
    } else {
      failures.push(`${c.name}: ${problems.join('; ')}`);
      console.log(`not ok - ${c.name}: ${problems.join('; ')}`);
    }
  }
  console.log(`\ngate self-tests: ${passed} passed, ${failures.length} failed`);
  return failures.length === 0;
}
