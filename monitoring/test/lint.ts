/**
 * The ecosystem's lint rules for dashboards and alerts, implemented on the real grammars (the linters
 * themselves are Go programs, not installable here):
 *
 * - grafana/dashboard-linter: the rules are named as there (template-datasource-rule, panel-units-rule,
 *   target-rate-interval-rule, target-counter-agg-rule, ...), with the same meaning, except where noted on
 *   the rule below. Exclusions live in monitoring/lint-exclusions.yml, in the spirit of the linter's `.lint`
 *   file: a rule, a reason, and optionally the entries (dashboard, panel, alert) it applies to.
 * - monitoring-mixins' guidelines for alert names, labels and annotations
 *   (github.com/monitoring-mixins/docs, "Guidelines for alert names, labels, and annotations"): UpperCamelCase
 *   name, severity critical|warning|info, a summary that is a sentence (capital letter, final period) and
 *   expands to the same string for every alert of one notification group, a description with the details
 *   templated in.
 */
import { parseLogQL } from './logql';
import { GRAFANA_DURATION_MARKERS, parsePromQL, type Selector } from './promql';
import {
  allPanels,
  dashboardQueries,
  targetDatasource,
  type LoadedDashboard,
  type Panel,
  type Query,
} from './queries';
import { readYaml } from './paths';
import type { LoadedAlertRule, LoadedRecordingRule } from './rules';

export interface Finding {
  rule: string;
  dashboard?: string;
  panel?: string;
  alert?: string;
  message: string;
}

export const describeFinding = (f: Finding) =>
  `${f.rule}: ${[f.dashboard, f.panel, f.alert].filter(Boolean).join(' › ')}: ${f.message}`;

// ---------------------------------------------------------------------------------------------------------
// Dashboards (grafana/dashboard-linter)

/** Panel types the linter requires a unit and a description on (plus state-timeline, which shows numbers). */
const NUMERIC_PANELS = new Set([
  'stat',
  'singlestat',
  'graph',
  'table',
  'timeseries',
  'gauge',
  'state-timeline',
  'bargauge',
]);
/** Panels without queries of their own. */
const NO_QUERY_PANELS = new Set(['row', 'text', 'news', 'dashlist', 'alertlist', 'annolist']);

/** Grafana's unit ids (packages/grafana-data/src/valueFormats/categories.ts), the ones a service uses. */
// prettier-ignore
const VALID_UNITS = new Set([
  'none', 'string', 'short', 'percent', 'percentunit', 'sci', 'locale', 'hex', 'hex0x',
  'bytes', 'decbytes', 'bits', 'decbits', 'kbytes', 'deckbytes', 'mbytes', 'decmbytes', 'gbytes', 'decgbytes',
  'Bps', 'binBps', 'bps', 'binbps', 'KBs', 'KiBs', 'MBs', 'MiBs', 'pps',
  'ns', 'µs', 'ms', 's', 'm', 'h', 'd', 'dtdurationms', 'dtdurations', 'dthms', 'dtdhms', 'timeticks', 'clockms', 'clocks', 'hertz',
  'dateTimeAsIso', 'dateTimeAsIsoNoDateIfToday', 'dateTimeAsUS', 'dateTimeAsLocal', 'dateTimeAsSystem', 'dateTimeFromNow',
  'cps', 'ops', 'reqps', 'rps', 'wps', 'iops', 'cpm', 'opm', 'rpm', 'wpm',
  'bool', 'bool_yes_no', 'bool_on_off', 'currencyUSD',
]);
/**
 * Grafana's custom units (suffix:×, prefix:$, si:, count:) are real units in Grafana; dashboard-linter only
 * knows the fixed list. Accepted here: a burn rate is "×", which no fixed unit spells.
 */
const CUSTOM_UNIT = /^(suffix|prefix|si|count):.+$/;

function unitOf(panel: Panel): string | undefined {
  for (const override of panel.fieldConfig?.overrides ?? [])
    for (const p of override.properties ?? [])
      if (p.id === 'unit' && typeof p.value === 'string') return p.value;
  return panel.fieldConfig?.defaults?.unit;
}

const isTemplatedDatasource = (uid: string | undefined) => uid !== undefined && /^\$\{?\w+\}?$/.test(uid);

/** A series a counter: `_total` as the linter says, and the _bucket/_count/_sum series of a histogram. */
const isCounter = (name: string | undefined) =>
  name !== undefined && !name.includes(':') && /_(total|bucket|count|sum)$/.test(name);
const COUNTER_FUNCTIONS = new Set(['rate', 'irate', 'increase']);

function counterProblems(selectors: Selector[]): string[] {
  return selectors
    .filter(
      (s) =>
        isCounter(s.name) && !(s.range !== undefined && s.fn !== undefined && COUNTER_FUNCTIONS.has(s.fn)),
    )
    .map((s) => `counter ${s.name} is read outside rate(), irate() or increase(): ${s.text}`);
}

function hasMatcher(selector: Selector, label: string): boolean {
  return selector.matchers.some((m) => m.label === label && (m.op === '=' || m.op === '=~'));
}

function lintPanelQuery(q: Query, findings: Finding[]): void {
  const at = { dashboard: q.dashboard, panel: q.panel };
  if (q.language === 'logql') {
    const { errors } = parseLogQL(q.expr);
    for (const e of errors) findings.push({ rule: 'target-logql-rule', ...at, message: `[${q.refId}] ${e}` });
    return;
  }
  const { errors, selectors } = parsePromQL(q.expr);
  for (const e of errors) findings.push({ rule: 'target-promql-rule', ...at, message: `[${q.refId}] ${e}` });
  if (errors.length > 0) return; // the other rules need a tree, as in dashboard-linter
  for (const s of selectors) {
    if (
      s.range !== undefined &&
      (s.fn === 'rate' || s.fn === 'irate') &&
      s.range !== GRAFANA_DURATION_MARKERS.__rate_interval
    )
      findings.push({
        rule: 'target-rate-interval-rule',
        ...at,
        message: `[${q.refId}] ${s.fn}() over ${s.range}, not $__rate_interval: ${s.text}`,
      });
    if (!hasMatcher(s, 'job'))
      findings.push({ rule: 'target-job-rule', ...at, message: `[${q.refId}] no job matcher: ${s.text}` });
    if (!hasMatcher(s, 'instance'))
      findings.push({
        rule: 'target-instance-rule',
        ...at,
        message: `[${q.refId}] no instance matcher: ${s.text}`,
      });
  }
  for (const p of counterProblems(selectors))
    findings.push({ rule: 'target-counter-agg-rule', ...at, message: `[${q.refId}] ${p}` });
}

export function lintDashboard(loaded: LoadedDashboard): Finding[] {
  const { name, json } = loaded;
  const findings: Finding[] = [];
  const variables = json.templating.list;
  const datasourceVars = variables.filter((v) => v.type === 'datasource');
  if (datasourceVars.length === 0)
    findings.push({
      rule: 'template-datasource-rule',
      dashboard: name,
      message: 'no datasource template variable',
    });
  for (const label of ['job', 'instance'])
    if (!variables.some((v) => v.name === label))
      findings.push({
        rule: `template-${label}-rule`,
        dashboard: name,
        message: `no $${label} template variable`,
      });
  for (const v of variables.filter((x) => x.type === 'query'))
    if (v.refresh !== 2)
      findings.push({
        rule: 'template-on-time-change-reload-rule',
        dashboard: name,
        message: `variable $${v.name} has refresh ${v.refresh ?? 'unset'}, not 2 (on time range change)`,
      });
  if (json.editable !== false)
    findings.push({ rule: 'uneditable-dashboard', dashboard: name, message: 'editable is not false' });

  for (const panel of allPanels(json).filter((p) => p.type !== 'row')) {
    const at = { dashboard: name, panel: panel.title };
    if (!panel.title?.trim() || !panel.description?.trim())
      findings.push({ rule: 'panel-title-description-rule', ...at, message: 'missing title or description' });
    if (NUMERIC_PANELS.has(panel.type)) {
      const unit = unitOf(panel);
      if (unit === undefined || !(VALID_UNITS.has(unit) || CUSTOM_UNIT.test(unit)))
        findings.push({ rule: 'panel-units-rule', ...at, message: `no or invalid unit: '${unit ?? ''}'` });
    }
    if (!NO_QUERY_PANELS.has(panel.type)) {
      if ((panel.targets ?? []).length === 0)
        findings.push({ rule: 'panel-no-targets-rule', ...at, message: 'no targets' });
      const uids = [panel.datasource, ...(panel.targets ?? []).map((t) => targetDatasource(panel, t))].map(
        (d) => d?.uid,
      );
      if (uids.some((uid) => !isTemplatedDatasource(uid)))
        findings.push({
          rule: 'panel-datasource-rule',
          ...at,
          message: `datasource uid ${uids.filter((u) => !isTemplatedDatasource(u)).join(', ')} is not a template variable`,
        });
    }
  }
  for (const q of dashboardQueries(loaded)) {
    if (q.kind === 'panel') {
      lintPanelQuery(q, findings);
    } else {
      const errors = q.language === 'promql' ? parsePromQL(q.expr).errors : parseLogQL(q.expr).errors;
      const rule = q.kind === 'variable' ? 'template-label-promql-rule' : 'target-promql-rule';
      for (const e of errors) findings.push({ rule, dashboard: name, message: `${q.where}: ${e}` });
    }
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------------------
// Alerts and rules (monitoring-mixins guidelines)

const TEMPLATE = /\{\{(.*?)\}\}/gs;

/** `$labels.x`, `$labels["x"]`, `.Labels.x` references of a template text. */
function labelsReferenced(text: string): string[] {
  return [...text.matchAll(/(?:\$labels|\.Labels)(?:\.(\w+)|\[\s*"(\w+)"\s*\])/g)].map(
    (m) => (m[1] ?? m[2]) as string,
  );
}

/**
 * @param groupBy the labels Alertmanager groups notifications by (alertmanager.yml route.group_by): a summary
 *   may only expand labels from it, so it reads the same for every alert of one notification.
 */
export function lintAlert(rule: LoadedAlertRule, groupBy: readonly string[]): Finding[] {
  const findings: Finding[] = [];
  const at = { alert: `${rule.alert} (${rule.labels.severity ?? 'no severity'})` };
  if (!/^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)*$/.test(rule.alert))
    findings.push({ rule: 'alert-name-rule', ...at, message: 'name is not UpperCamelCase' });
  if (!['critical', 'warning', 'info'].includes(rule.labels.severity ?? ''))
    findings.push({
      rule: 'alert-severity-rule',
      ...at,
      message: `severity '${rule.labels.severity ?? ''}'`,
    });

  const summary = rule.annotations.summary?.trim() ?? '';
  if (!/^[A-Z]/.test(summary) || !/\.$/.test(summary) || summary.length < 10)
    findings.push({
      rule: 'alert-summary-rule',
      ...at,
      message: `summary is not a sentence with a capital and a final period: '${summary}'`,
    });
  const summaryTemplates = [...summary.matchAll(TEMPLATE)].map((m) => m[1] as string);
  const ungrouped = summaryTemplates.filter(
    (t) => /\$value|\.Value/.test(t) || labelsReferenced(`{{${t}}}`).some((l) => !groupBy.includes(l)),
  );
  if (ungrouped.length > 0)
    findings.push({
      rule: 'alert-summary-static-rule',
      ...at,
      message: `summary expands {{${ungrouped.join('}}, {{')}}}, which differ between the alerts of one notification (grouped by ${groupBy.join(', ')}): put them in the description`,
    });

  const description = rule.annotations.description?.trim() ?? '';
  if (description.length < 40 || !/[.!]$/.test(description))
    findings.push({
      rule: 'alert-description-rule',
      ...at,
      message: `description is missing, short or has no final period: '${description}'`,
    });
  else if (!TEMPLATE.test(description))
    findings.push({
      rule: 'alert-description-templated-rule',
      ...at,
      message: 'description templates nothing in ({{ $labels.x }}, {{ $value }})',
    });
  TEMPLATE.lastIndex = 0;
  if (!rule.annotations.runbook_url)
    findings.push({ rule: 'alert-runbook-rule', ...at, message: 'no runbook_url' });
  for (const p of counterProblems(parsePromQL(rule.expr).selectors))
    findings.push({ rule: 'rule-counter-agg-rule', ...at, message: p });
  return findings;
}

export function lintRecordingRule(rule: LoadedRecordingRule): Finding[] {
  return counterProblems(parsePromQL(rule.expr).selectors).map((message) => ({
    rule: 'rule-counter-agg-rule',
    alert: `record ${rule.record}${rule.labels?.slo ? ` (${rule.labels.slo})` : ''}`,
    message,
  }));
}

// ---------------------------------------------------------------------------------------------------------
// Exclusions (monitoring/lint-exclusions.yml)

export interface ExclusionEntry {
  dashboard?: string;
  panel?: string;
  alert?: string;
  reason?: string;
}
export interface Exclusion {
  reason: string;
  entries?: ExclusionEntry[];
}
export type Exclusions = Record<string, Exclusion>;

export const loadExclusions = (file: string) => readYaml<Exclusions>(file);

const entryMatches = (entry: ExclusionEntry, f: Finding) =>
  (entry.dashboard === undefined || entry.dashboard === f.dashboard) &&
  (entry.panel === undefined || entry.panel === f.panel) &&
  (entry.alert === undefined || entry.alert === f.alert || f.alert?.startsWith(`${entry.alert} (`) === true);

/** The exclusion entry (or the whole-rule exclusion, as `{}`) that covers a finding, if any. */
export function exclusionFor(exclusions: Exclusions, f: Finding): ExclusionEntry | undefined {
  const exclusion = exclusions[f.rule];
  if (exclusion === undefined) return undefined;
  if (exclusion.entries === undefined) return {};
  return exclusion.entries.find((e) => entryMatches(e, f));
}

/** Exclusions that cover no finding: stale, they would hide the next real problem. */
export function unusedExclusions(
  exclusions: Exclusions,
  findings: Finding[],
  rules: (rule: string) => boolean,
): string[] {
  const unused: string[] = [];
  for (const [rule, exclusion] of Object.entries(exclusions)) {
    if (!rules(rule)) continue;
    const ofRule = findings.filter((f) => f.rule === rule);
    if (exclusion.entries === undefined) {
      if (ofRule.length === 0) unused.push(`${rule} (whole rule)`);
      continue;
    }
    for (const entry of exclusion.entries)
      if (!ofRule.some((f) => entryMatches(entry, f))) unused.push(`${rule}: ${JSON.stringify(entry)}`);
  }
  return unused;
}
