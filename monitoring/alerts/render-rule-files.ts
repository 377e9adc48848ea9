/**
 * The one generation step of the Prometheus rules (`make generate`):
 *
 *   monitoring/alerts/operational-alerts.yml  --(runbook_url added)-->  monitoring/prometheus/rules/alerts.yml
 *   monitoring/slo/slos.yml                   --(SLO rules)---------->  monitoring/prometheus/rules/slo.yml
 *   both rule files                           --(PrometheusRule)----->  k8s/components/monitoring/prometheus-rule.yaml
 *
 * Every alert's runbook_url is RUNBOOK_URL_BASE/<alert-in-kebab-case>.md (monitoring/alerts/runbook-url.ts).
 *
 *   npx tsx monitoring/alerts/render-rule-files.ts           write the files
 *   npx tsx monitoring/alerts/render-rule-files.ts --check   exit 1 if a committed file is stale
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { load } from 'js-yaml';
import { writeOrCheck, type GeneratedFile } from '../generate/generated-files';
import { parseSloSpec, renderSloRulesYaml } from '../slo/render-rules';
import { PROMETHEUS_RULE_PATH, RULES_DIR, renderPrometheusRuleYaml } from './prometheus-rule';
import { runbookUrl, runbookUrlBase } from './runbook-url';

const MONITORING = resolve(__dirname, '..');
export const OPERATIONAL_ALERTS_PATH = join(MONITORING, 'alerts', 'operational-alerts.yml');
export const SLO_SPEC_PATH = join(MONITORING, 'slo', 'slos.yml');

const indentOf = (line: string) => line.length - line.trimStart().length;

/**
 * The source text with a runbook_url line appended to each alert's annotations. Done on the text, not by
 * re-dumping parsed YAML, so that the comments explaining each alert stay in the file Prometheus loads.
 */
export function withRunbookUrls(source: string, base = runbookUrlBase()): string {
  const lines = source.split('\n');
  const byHand = lines.findIndex((line) => /^\s*runbook_url:/.test(line));
  if (byHand >= 0) throw new Error(`line ${byHand + 1}: runbook_url is written by the renderer, not by hand`);
  const out: string[] = [];
  let alert: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    out.push(line);
    alert = /^\s*- alert:\s*(\S+)\s*$/.exec(line)?.[1] ?? alert;
    if (!/^\s*annotations:\s*$/.test(line)) continue;
    if (alert === undefined) throw new Error(`line ${i + 1}: annotations outside an alert`);
    const indent = indentOf(line);
    // The block is every following line indented deeper (blank lines inside a folded scalar included).
    let end = i;
    for (let j = i + 1; j < lines.length; j++) {
      const next = lines[j] as string;
      if (next.trim() === '') continue;
      if (indentOf(next) <= indent) break;
      end = j;
    }
    out.push(
      ...lines.slice(i + 1, end + 1),
      `${' '.repeat(indent + 2)}runbook_url: '${runbookUrl(alert, base)}'`,
    );
    i = end;
    alert = undefined;
  }
  return out.join('\n');
}

interface Rule {
  alert?: string;
  annotations?: Record<string, string>;
}

/** The source's alerts must come out with exactly one URL each and nothing else changed. */
function checkRendered(source: string, rendered: string, base: string): void {
  const rules = (text: string) =>
    (load(text) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
  const before = rules(source);
  const after = rules(rendered);
  after.forEach((rule, i) => {
    if (rule.alert === undefined) return;
    if (rule.annotations?.runbook_url !== runbookUrl(rule.alert, base))
      throw new Error(`${rule.alert}: no runbook_url rendered (does it have annotations?)`);
    const { runbook_url: _url, ...rest } = rule.annotations;
    if (JSON.stringify({ ...rule, annotations: rest }) !== JSON.stringify(before[i]))
      throw new Error(`${rule.alert}: rendering changed more than the runbook_url`);
  });
}

const ALERTS_HEADER = [
  '# Operational alerts of the price service (the SLO burn-rate alerts are in slo.yml).',
  '# Generated from monitoring/alerts/operational-alerts.yml by monitoring/alerts/render-rule-files.ts, which',
  '# adds each runbook_url. Do not edit by hand: change the source, then run  make generate',
  '# Unit tests: monitoring/prometheus/tests/alerts_test.yml (promtool test rules).',
];

export function ruleFiles(base = runbookUrlBase()): GeneratedFile[] {
  const source = readFileSync(OPERATIONAL_ALERTS_PATH, 'utf8');
  // The source's own leading comment says how to write an alert; the rendered file says where it comes from.
  const body = source.replace(/^(#.*\n)+/, '');
  const alerts = `${ALERTS_HEADER.join('\n')}\n${withRunbookUrls(body, base)}`;
  checkRendered(source, alerts, base);
  const slo = renderSloRulesYaml(parseSloSpec(readFileSync(SLO_SPEC_PATH, 'utf8')), base);
  const rendered = [
    { file: 'alerts.yml', text: alerts },
    { file: 'slo.yml', text: slo },
  ];
  return [
    ...rendered.map((r) => ({ path: join(RULES_DIR, r.file), content: r.text })),
    { path: PROMETHEUS_RULE_PATH, content: renderPrometheusRuleYaml(rendered) },
  ];
}

if (require.main === module) {
  process.exitCode = writeOrCheck('monitoring/alerts/render-rule-files.ts', ruleFiles());
}
