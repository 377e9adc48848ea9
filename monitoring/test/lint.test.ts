import { join } from 'node:path';
import {
  describeFinding,
  exclusionFor,
  lintAlert,
  lintDashboard,
  lintRecordingRule,
  loadExclusions,
  unusedExclusions,
  type Finding,
} from './lint';
import { readYaml, repoPath } from './paths';
import { loadDashboard, loadDashboards } from './queries';
import { loadAlertRules, loadRecordingRules, type LoadedAlertRule } from './rules';

const EXCLUSIONS_FILE = repoPath('monitoring/lint-exclusions.yml');
const FIXTURES = join(__dirname, 'fixtures', 'lint');
const exclusions = loadExclusions(EXCLUSIONS_FILE);
/** Alertmanager's grouping: a summary may only expand these labels. */
const GROUP_BY = readYaml<{ route: { group_by: string[] } }>(
  repoPath('monitoring/alertmanager/alertmanager.yml'),
).route.group_by;

const DASHBOARD_RULES = [
  'template-datasource-rule',
  'template-job-rule',
  'template-instance-rule',
  'template-label-promql-rule',
  'template-on-time-change-reload-rule',
  'uneditable-dashboard',
  'panel-title-description-rule',
  'panel-units-rule',
  'panel-no-targets-rule',
  'panel-datasource-rule',
  'target-promql-rule',
  'target-logql-rule',
  'target-rate-interval-rule',
  'target-job-rule',
  'target-instance-rule',
  'target-counter-agg-rule',
];
const ALERT_RULES = [
  'alert-name-rule',
  'alert-severity-rule',
  'alert-summary-rule',
  'alert-summary-static-rule',
  'alert-description-rule',
  'alert-description-templated-rule',
  'alert-runbook-rule',
  'rule-counter-agg-rule',
];

const findings: Finding[] = [
  ...loadDashboards().flatMap(lintDashboard),
  ...loadAlertRules().flatMap((r) => lintAlert(r, GROUP_BY)),
  ...loadRecordingRules().flatMap(lintRecordingRule),
];

describe('The dashboards and rules pass the linters, apart from the recorded exclusions', () => {
  it('When every finding is compared with monitoring/lint-exclusions.yml, then none is left unexcluded', () => {
    expect(findings.filter((f) => exclusionFor(exclusions, f) === undefined).map(describeFinding)).toEqual(
      [],
    );
  });

  it('When the exclusions file is read, then every exclusion names a known rule and gives its reason', () => {
    for (const [rule, exclusion] of Object.entries(exclusions)) {
      expect([...DASHBOARD_RULES, ...ALERT_RULES, 'dead-panel']).toContain(rule);
      expect(exclusion.reason?.trim().length).toBeGreaterThan(40);
      for (const entry of exclusion.entries ?? []) expect(Object.keys(entry).length).toBeGreaterThan(0);
    }
    for (const entry of exclusions['dead-panel']?.entries ?? [])
      expect(entry.reason?.length).toBeGreaterThan(20);
  });

  it('When an exclusion covers no finding, then it is stale and fails (dead panels are checked live)', () => {
    expect(unusedExclusions(exclusions, findings, (rule) => rule !== 'dead-panel')).toEqual([]);
  });

  it('When an exclusion is stale, then the staleness check reports it', () => {
    const stale = {
      ...exclusions,
      'target-rate-interval-rule': { reason: 'x', entries: [{ panel: 'Nope' }] },
    };
    expect(unusedExclusions(stale, findings, (rule) => rule !== 'dead-panel')).toEqual([
      'target-rate-interval-rule: {"panel":"Nope"}',
    ]);
  });
});

describe('Every lint rule fails on a broken fixture', () => {
  const dashboard = lintDashboard(loadDashboard(join(FIXTURES, 'dashboard.json')));

  it.each(DASHBOARD_RULES)('When the fixture dashboard breaks %s, then that rule reports it', (rule) => {
    expect(dashboard.filter((f) => f.rule === rule).length).toBeGreaterThan(0);
  });

  it('When a fixture panel is named after the rule it breaks, then it breaks only that rule', () => {
    const panelFindings = dashboard.filter((f) => f.panel !== undefined);
    for (const f of panelFindings) expect([f.panel, f.rule]).toEqual([f.rule, f.rule]);
    expect(new Set(panelFindings.map((f) => f.panel)).size).toBe(10);
  });

  const raw = readYaml<{ groups: { rules: Omit<LoadedAlertRule, 'file' | 'group'>[] }[] }>(
    join(FIXTURES, 'alerts.yml'),
  );
  const fixtureAlerts =
    raw.groups[0]?.rules.map((r) => ({ ...r, file: 'alerts.yml', group: 'broken' })) ?? [];

  it.each(ALERT_RULES)(
    'When a fixture alert breaks %s, then that rule and only that one reports it',
    (rule) => {
      const alert = fixtureAlerts.find((a) => a.labels.lint === rule) as LoadedAlertRule;
      expect(alert).toBeDefined();
      expect(lintAlert({ ...alert, expr: String(alert.expr) }, GROUP_BY).map((f) => f.rule)).toEqual([rule]);
    },
  );

  it('When a recording rule reads a counter without rate(), then rule-counter-agg-rule reports it', () => {
    expect(
      lintRecordingRule({
        file: 'x',
        group: 'x',
        record: 'job:x:sum',
        expr: 'sum by (job) (upstream_retries_total)',
      }),
    ).toEqual([expect.objectContaining({ rule: 'rule-counter-agg-rule' })]);
  });
});
