import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { dump } from 'js-yaml';
import { RULE_FILES, RULE_TEST_FILES } from './rules';
import { MONITORING, readYaml, repoPath } from './paths';

/** Runs a command and returns its exit code with everything it printed, so a failure shows the tool's words. */
function run(command: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(command, args, { cwd: repoPath(), encoding: 'utf8', timeout: 20_000 });
  if (result.error) throw new Error(`${command} could not run (is it installed?): ${result.error.message}`);
  return {
    status: result.status,
    output: `$ ${command} ${args.join(' ')}\n${result.stdout}${result.stderr}`,
  };
}

function expectSuccess(result: { status: number | null; output: string }): void {
  if (result.status !== 0) throw new Error(result.output);
}

const RANGE = /\[((?:\d+(?:ms|s|m|h|d|w|y))+)(:[^\]]*)?\]/g;
const UNIT_MS = { ms: 1, s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5, y: 31536e6 } as const;
const durationMs = (d: string) =>
  [...d.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)].reduce(
    (a, [, n, u]) => a + Number(n) * UNIT_MS[u as keyof typeof UNIT_MS],
    0,
  );

function runAsync(command: string, args: string[]): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: repoPath() });
    let output = `$ ${command} ${args.join(' ')}\n`;
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', (e) => resolve({ status: null, output: `${output}${e.message}` }));
    child.on('close', (status) => resolve({ status, output }));
  });
}

/**
 * A copy of a Prometheus folder (rules/ and tests/) with every range selector 1 ms shorter, and the alert
 * cases of every test file run on it with promtool, in parallel.
 */
async function runLeftOpen(promDir: string) {
  const dir = mkdtempSync(join(tmpdir(), 'prom-left-open-'));
  try {
    cpSync(promDir, dir, { recursive: true });
    let ranges = 0;
    for (const name of readdirSync(join(dir, 'rules'))) {
      const path = join(dir, 'rules', name);
      const text = readFileSync(path, 'utf8').replace(RANGE, (_m, range: string, step?: string) => {
        ranges += 1;
        return `[${durationMs(range) - 1}ms${step ?? ''}]`;
      });
      writeFileSync(path, text);
    }
    const files = readdirSync(join(dir, 'tests')).filter((f) => /_test\.ya?ml$/.test(f));
    const runs = await Promise.all(
      files.map(async (file) => {
        const path = join(dir, 'tests', file);
        const doc = readYaml<{ tests: { promql_expr_test?: unknown }[] }>(path);
        for (const test of doc.tests) delete test.promql_expr_test;
        writeFileSync(path, dump(doc));
        return { file, ...(await runAsync('promtool', ['test', 'rules', path])) };
      }),
    );
    return { ranges, runs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('Prometheus configuration and rules, checked by promtool', () => {
  it('When promtool checks prometheus.yml, then the config and every rule file it loads are valid', () => {
    const result = run('promtool', ['check', 'config', 'monitoring/prometheus/prometheus.yml']);
    expectSuccess(result);
    for (const file of RULE_FILES) expect(result.output).toContain(`rules/${basename(file)}`);
  });

  it('When promtool checks the rule files, then each is valid', () => {
    expect(RULE_FILES.map((f) => basename(f))).toEqual(['alerts.yml', 'slo.yml']);
    expectSuccess(run('promtool', ['check', 'rules', ...RULE_FILES]));
  });

  it.each(RULE_TEST_FILES.map((f) => basename(f)))(
    'When promtool runs the unit tests in %s, then they pass',
    (file) => {
      const result = run('promtool', ['test', 'rules', join('monitoring/prometheus/tests', file)]);
      expectSuccess(result);
      expect(result.output).toContain('SUCCESS');
    },
  );

  // Prometheus 3 made range selectors left-open: [5m] at t reads (t-5m, t], where 2.x (Debian's promtool
  // 2.42, which runs these tests) reads [t-5m, t]. A case whose outcome hangs on a sample exactly at t-5m
  // would pass here and fail on the deployed Prometheus. Every range shortened by 1 ms gives 2.42 the 3.x
  // window for samples on a whole-second grid (all test samples are): the alert cases must still pass.
  // promql_expr_test cases are left out of that run: they compare exact floats, and rate() divides by the
  // 1 ms shorter window; alert cases compare labels and annotations, which a 1-in-300000 change cannot move.
  it('When every range selector is made left-open (Prometheus 3 semantics), then every alert case still passes', async () => {
    const results = await runLeftOpen(join(MONITORING, 'prometheus'));
    expect(results.ranges).toBeGreaterThan(40);
    expect(results.runs.map((r) => r.file).sort()).toEqual(RULE_TEST_FILES.map((f) => basename(f)).sort());
    for (const r of results.runs) expectSuccess(r);
  });

  it('When a case depends on a sample exactly on the window boundary, then the left-open run fails it', async () => {
    const fixture = join(__dirname, 'fixtures', 'left-open');
    expectSuccess(run('promtool', ['test', 'rules', join(fixture, 'tests', 'boundary_test.yml')]));
    const results = await runLeftOpen(fixture);
    expect(results.runs.map((r) => r.status)).toEqual([1]);
    expect(results.runs[0]?.output).toContain('alertname: BoundaryAlert');
  });

  // Each mutant breaks one rule the way a careless edit would; the unit tests must name that alert.
  it.each([
    {
      alert: 'PriceAgeHigh',
      change: 'its threshold raised',
      from: 'price_age_seconds{job="price-service"}) > 20',
      to: 'price_age_seconds{job="price-service"}) > 50',
    },
    {
      alert: 'PriceHistoryWritesFailing',
      change: 'its held-points threshold raised',
      from: 'price_history_points_pending{job="price-service"}) > 0',
      to: 'price_history_points_pending{job="price-service"}) > 5000',
    },
    {
      alert: 'PriceHistoryWritesFailing',
      change: 'its held-points condition left out (a failure blip fires it)',
      from: /\n\s*and on \(job, instance\)\n\s*sum by \(job, instance\) \(price_history_points_pending[^\n]*/,
      to: '',
    },
  ])('When $alert has $change, then the promtool unit tests catch it', ({ alert, from, to }) => {
    const dir = mkdtempSync(join(tmpdir(), 'prom-mutant-'));
    try {
      cpSync(join(MONITORING, 'prometheus'), dir, { recursive: true });
      const rules = join(dir, 'rules', 'alerts.yml');
      const original = readFileSync(rules, 'utf8');
      const mutated = original.replace(from, to);
      expect(mutated).not.toBe(original);
      writeFileSync(rules, mutated);
      const result = run('promtool', ['test', 'rules', join(dir, 'tests', 'alerts_test.yml')]);
      expect(result.status).not.toBe(0);
      expect(result.output).toContain(`alertname: ${alert}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
