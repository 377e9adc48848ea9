import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import {
  PROMETHEUS_RULE_PATH,
  RULES_DIR,
  readRuleFiles,
  renderPrometheusRule,
  renderPrometheusRuleYaml,
} from '../../monitoring/alerts/prometheus-rule';
import { repoPath } from './lib/paths';

// The PrometheusRule in k8s/components/monitoring is generated from monitoring/prometheus/rules/ (what
// promtool's unit tests and the compose stack use): Kubernetes must evaluate exactly those rules.

describe('k8s/components/monitoring/prometheus-rule.yaml', () => {
  it('When the rule files are rendered, then the committed PrometheusRule is exactly the result', () => {
    // If this fails: make generate
    expect(readFileSync(PROMETHEUS_RULE_PATH, 'utf8')).toBe(renderPrometheusRuleYaml());
  });

  it('When its groups are compared with the rule files, then every group of every file is there, in order', () => {
    const committed = load(readFileSync(PROMETHEUS_RULE_PATH, 'utf8')) as { spec: { groups: unknown[] } };
    expect(committed.spec.groups).toEqual(readRuleFiles().flatMap((f) => f.groups));
    expect(committed.spec.groups.length).toBeGreaterThan(0);
  });

  it('When a rule file changes, then the rendered rule no longer matches the committed file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-'));
    try {
      cpSync(RULES_DIR, dir, { recursive: true });
      const file = join(dir, 'alerts.yml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('expr: vector(1)', 'expr: vector(2)'));
      expect(renderPrometheusRuleYaml(dir)).not.toBe(readFileSync(PROMETHEUS_RULE_PATH, 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('When the rules select the job, then it is the Service name the ServiceMonitor gives as job', () => {
    // A ServiceMonitor without jobLabel sets job to the Service's name.
    const service = load(readFileSync(repoPath('k8s', 'base', 'service.yaml'), 'utf8')) as {
      metadata: { name: string };
    };
    const monitor = load(
      readFileSync(repoPath('k8s', 'components', 'monitoring', 'servicemonitor.yaml'), 'utf8'),
    ) as {
      spec: { jobLabel?: string };
    };
    expect(monitor.spec.jobLabel).toBeUndefined();
    const jobs = new Set(
      [...JSON.stringify(renderPrometheusRule()).matchAll(/job=\\"([^\\"]+)\\"/g)].map((m) => m[1]),
    );
    expect([...jobs]).toEqual([service.metadata.name]);
  });
});
