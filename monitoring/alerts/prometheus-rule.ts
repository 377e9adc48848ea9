import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dump, load } from 'js-yaml';

/**
 * Renders the Prometheus rule files (monitoring/prometheus/rules/*.yml, the ones promtool tests and the
 * compose stack loads) into one PrometheusRule for the Prometheus Operator
 * (k8s/components/monitoring/prometheus-rule.yaml), so Kubernetes evaluates exactly the same rules.
 * Written by monitoring/alerts/render-rule-files.ts (`make generate`) in the same step as the rule files.
 */

const REPO_ROOT = resolve(__dirname, '..', '..');
export const RULES_DIR = join(REPO_ROOT, 'monitoring', 'prometheus', 'rules');
export const PROMETHEUS_RULE_PATH = join(
  REPO_ROOT,
  'k8s',
  'components',
  'monitoring',
  'prometheus-rule.yaml',
);

type Groups = { name: string; rules: Record<string, unknown>[] }[];

/** A rule file by name (alerts.yml) and its text. */
export interface RuleFileText {
  file: string;
  text: string;
}

export function ruleFilesIn(dir = RULES_DIR): RuleFileText[] {
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((file) => ({ file, text: readFileSync(join(dir, file), 'utf8') }));
}

function parse(files: RuleFileText[]): { file: string; groups: Groups }[] {
  return [...files]
    .sort((a, b) => a.file.localeCompare(b.file))
    .map(({ file, text }) => {
      const parsed = load(text) as { groups?: Groups } | null;
      if (!parsed || !Array.isArray(parsed.groups)) throw new Error(`${file}: no groups`);
      return { file, groups: parsed.groups };
    });
}

export function readRuleFiles(dir = RULES_DIR): { file: string; groups: Groups }[] {
  return parse(ruleFilesIn(dir));
}

export function renderPrometheusRule(dir: string | RuleFileText[] = RULES_DIR): Record<string, unknown> {
  const groups = parse(typeof dir === 'string' ? ruleFilesIn(dir) : dir).flatMap((f) => f.groups);
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

/** The PrometheusRule of the rule files in `dir`, or of rule files given as text (not yet written). */
export function renderPrometheusRuleYaml(dir: string | RuleFileText[] = RULES_DIR): string {
  const files = parse(typeof dir === 'string' ? ruleFilesIn(dir) : dir).map(
    (f) => `monitoring/prometheus/rules/${f.file}`,
  );
  const header = [
    `# Generated from ${files.join(', ')} by monitoring/alerts/render-rule-files.ts. Do not edit by hand:`,
    '# change the rule sources (monitoring/alerts/, monitoring/slo/slos.yml), then run  make generate',
  ];
  return `${header.join('\n')}\n${dump(renderPrometheusRule(dir), { lineWidth: -1, noRefs: true })}`;
}
