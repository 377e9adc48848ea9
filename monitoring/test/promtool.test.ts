import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { RULE_FILES, RULE_TEST_FILES } from './rules';
import { MONITORING, repoPath } from './paths';

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

  it('When an alert threshold is changed, then the promtool unit tests catch it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'prom-mutant-'));
    try {
      cpSync(join(MONITORING, 'prometheus'), dir, { recursive: true });
      const rules = join(dir, 'rules', 'alerts.yml');
      const original = readFileSync(rules, 'utf8');
      const mutated = original.replace(
        'price_age_seconds{job="price-service"}) > 20',
        'price_age_seconds{job="price-service"}) > 50',
      );
      expect(mutated).not.toBe(original);
      writeFileSync(rules, mutated);
      const result = run('promtool', ['test', 'rules', join(dir, 'tests', 'alerts_test.yml')]);
      expect(result.status).not.toBe(0);
      expect(result.output).toContain('alertname: PriceAgeHigh');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
