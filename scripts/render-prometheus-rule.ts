import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { dump, load } from 'js-yaml';

/**
 * Renders the Prometheus rule files (monitoring/prometheus/rules/*.yml, the ones promtool tests and the
 * compose stack loads) into one PrometheusRule for the Prometheus Operator
 * (k8s/components/monitoring/prometheus-rule.yaml), so Kubernetes evaluates exactly the same rules.
 *
 *   make build && node dist/scripts/render-prometheus-rule.js    # rewrite the committed file
 *
 * k8s/test/prometheus-rule.test.ts fails when the committed file differs from what this renders.
 */

// scripts/ or, compiled, dist/scripts/.
const REPO_ROOT = resolve(__dirname, basename(resolve(__dirname, '..')) === 'dist' ? '../..' : '..');
export const RULES_DIR = join(REPO_ROOT, 'monitoring', 'prometheus', 'rules');
export const PROMETHEUS_RULE_PATH = join(
  REPO_ROOT,
  'k8s',
  'components',
  'monitoring',
  'prometheus-rule.yaml',
);

interface RuleFile {
  groups: { name: string; rules: Record<string, unknown>[] }[];
}

export function readRuleFiles(dir = RULES_DIR): { file: string; groups: RuleFile['groups'] }[] {
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((file) => {
      const parsed = load(readFileSync(join(dir, file), 'utf8')) as RuleFile;
      if (!parsed || !Array.isArray(parsed.groups)) throw new Error(`${file}: no groups`);
      return { file, groups: parsed.groups };
    });
}

export function renderPrometheusRule(dir = RULES_DIR): Record<string, unknown> {
  const groups = readRuleFiles(dir).flatMap((f) => f.groups);
  const names = groups.map((g) => g.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate !== undefined) throw new Error(`rule group "${duplicate}" is defined twice`);
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'price-service',
      labels: {
        'app.kubernetes.io/component': 'alert-rules',
        // What kube-prometheus's own rules carry (its Prometheus selects every PrometheusRule by default).
        prometheus: 'k8s',
        role: 'alert-rules',
      },
    },
    spec: { groups },
  };
}

export function renderPrometheusRuleYaml(dir = RULES_DIR): string {
  const files = readRuleFiles(dir).map((f) => `monitoring/prometheus/rules/${f.file}`);
  const header = [
    `# Generated from ${files.join(', ')} by scripts/render-prometheus-rule.ts. Do not edit by hand:`,
    '# change the rule files, then run  make build && node dist/scripts/render-prometheus-rule.js',
  ];
  return `${header.join('\n')}\n${dump(renderPrometheusRule(dir), { lineWidth: -1, noRefs: true })}`;
}

if (require.main === module) {
  writeFileSync(PROMETHEUS_RULE_PATH, renderPrometheusRuleYaml());
  console.log(`wrote ${PROMETHEUS_RULE_PATH}`);
}
