import { existsSync, readFileSync } from 'node:fs';
import { DEFAULT_RUNBOOK_URL_BASE, runbookPath, runbookUrl } from '../alerts/runbook-url';
import { KNOWN_METRICS, PROMETHEUS_SYNTHETIC_METRICS } from './known-metrics';
import { repoPath } from './paths';
import { metricNamesInExpr } from './promql';
import { loadAlertCases, loadAlertRules, loadRecordingRules } from './rules';

const alerts = loadAlertRules();
const recordings = loadRecordingRules();
const cases = loadAlertCases();
const alertNames = [...new Set(alerts.map((a) => a.alert))];

/** The alert is on by design whatever the input, so no test case can keep it silent. */
const ALWAYS_FIRING = new Set(['Watchdog']);

describe('Alert rules follow the conventions', () => {
  it('When the alerts are listed, then they are exactly the agreed set with their severities', () => {
    expect(alerts.map((a) => `${a.alert}:${a.labels.severity}`).sort()).toEqual(
      [
        'PriceAgeHigh:warning',
        'PriceAvailabilityBudgetBurn:critical',
        'PriceAvailabilityBudgetBurn:warning',
        'PriceCacheHitRatioCollapse:warning',
        'PriceEventLoopLagHigh:warning',
        'PriceHistoryWritesFailing:warning',
        'PriceLatencyBudgetBurn:critical',
        'PriceLatencyBudgetBurn:warning',
        'PriceLatencyP99High:warning',
        'PriceQuorumLost:critical',
        'PriceRateLimiterIdentityFallback:warning',
        'PriceRateLimiterOverflow:warning',
        'PriceServedStale:warning',
        'PriceServiceDown:critical',
        'PriceServiceScrapeFailing:warning',
        'PriceSourceCircuitOpen:warning',
        'PriceStreamBackpressureDrops:warning',
        'PriceWorkersRestarting:warning',
        'RedisUnreachable:warning',
        'RedisUnresponsive:warning',
        'Watchdog:info',
      ].sort(),
    );
  });

  it.each(alertNames)('When %s is named, then the name is UpperCamelCase', (name) => {
    expect(name).toMatch(/^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)*$/);
  });

  it.each(alerts.map((a) => [`${a.alert} (${a.labels.severity})`, a] as const))(
    'When %s is read, then it has a severity, a summary, a description and a runbook that exists',
    (_name, alert) => {
      expect(['critical', 'warning', 'info']).toContain(alert.labels.severity);
      expect(Object.keys(alert.annotations).sort()).toEqual(['description', 'runbook_url', 'summary']);
      expect(alert.annotations.summary?.length).toBeGreaterThan(10);
      expect(alert.annotations.description?.length).toBeGreaterThan(40);
      // A URL built from the one pattern, pointing at a page of this repository's docs/runbooks/.
      expect(alert.annotations.runbook_url).toBe(runbookUrl(alert.alert, DEFAULT_RUNBOOK_URL_BASE));
      const page = runbookPath(alert.annotations.runbook_url as string, DEFAULT_RUNBOOK_URL_BASE);
      expect(page).toMatch(/^docs\/runbooks\/[a-z0-9-]+\.md$/);
      expect(existsSync(repoPath(page as string))).toBe(true);
    },
  );

  it.each(alertNames)(
    'When the runbook of %s is opened, then it names the alert and says what to check and do',
    (name) => {
      const alert = alerts.find((a) => a.alert === name);
      const page = runbookPath(alert?.annotations.runbook_url ?? '', DEFAULT_RUNBOOK_URL_BASE);
      const text = readFileSync(repoPath(page as string), 'utf8');
      expect(text.split('\n')[0]).toBe(`# ${name}`);
      expect(text).toContain('## What it means');
      expect(text).toContain('## What to check');
      expect(text).toContain('## What to do');
      expect(text).toMatch(/```(promql|logql)/);
    },
  );

  it('When the same alert name has several rules, then they differ in severity and share one runbook', () => {
    for (const name of alertNames) {
      const rules = alerts.filter((a) => a.alert === name);
      expect(new Set(rules.map((r) => r.labels.severity)).size).toBe(rules.length);
      expect(new Set(rules.map((r) => r.annotations.runbook_url)).size).toBe(1);
    }
  });
});

/** The first column of the first table after `heading` in a markdown file. */
function tableColumn(path: string, heading: string): string[] {
  const text = readFileSync(repoPath(path), 'utf8');
  const start = text.indexOf(heading);
  if (start < 0) throw new Error(`${path}: no "${heading}"`);
  const lines = text.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const table = lines.slice(
    first,
    lines.findIndex((l, i) => i > first && !l.startsWith('|')),
  );
  return table.slice(2).map((row) => row.split('|')[1]?.trim() ?? '');
}

describe('The docs list every alert', () => {
  it.each([
    ['docs/monitoring.md', '## Alerts'],
    ['docs/runbooks/README.md', '# Runbooks'],
  ])('When the alert table of %s is read, then it names exactly the alerts of the rules', (path, heading) => {
    expect(tableColumn(path, heading).sort()).toEqual([...alertNames].sort());
  });
});

describe('Every alert is unit-tested with promtool', () => {
  it.each(alertNames)('When the promtool tests are read, then %s has a case where it fires', (name) => {
    expect(cases.filter((c) => c.alertname === name && c.fires).length).toBeGreaterThan(0);
  });

  it.each(alertNames.filter((n) => !ALWAYS_FIRING.has(n)))(
    'When the promtool tests are read, then %s has a case where it must stay silent',
    (name) => {
      expect(cases.filter((c) => c.alertname === name && !c.fires).length).toBeGreaterThan(0);
    },
  );

  it('When the always-firing Watchdog is checked, then its expression cannot be silent', () => {
    for (const name of ALWAYS_FIRING) {
      expect(alerts.filter((a) => a.alert === name).map((a) => a.expr.trim())).toEqual(['vector(1)']);
    }
  });

  it('When the SLO alerts are tested, then both the page and the ticket fire in some case', () => {
    for (const name of ['PriceAvailabilityBudgetBurn', 'PriceLatencyBudgetBurn']) {
      const tests = cases.filter((c) => c.alertname === name).map((c) => c.test);
      expect(tests.some((t) => /ticket and does not page/.test(t))).toBe(true);
      expect(tests.some((t) => /low traffic stay(s)? silent/.test(t))).toBe(true);
    }
  });

  it('When a test case names an alert, then that alert exists (no test of a typo)', () => {
    for (const c of cases) expect(alertNames).toContain(c.alertname);
  });
});

describe('Rules read only metrics the service exports', () => {
  const recorded = new Set(recordings.map((r) => r.record));
  const known = new Set([...KNOWN_METRICS, ...PROMETHEUS_SYNTHETIC_METRICS]);

  it('When recording rules are named, then they follow level:metric:operations', () => {
    for (const r of recordings) expect(r.record).toMatch(/^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$/);
  });

  it.each([
    ...alerts.map((a) => [`alert ${a.alert} (${a.labels.severity})`, a.expr] as const),
    ...recordings.map(
      (r) => [`record ${r.record}${r.labels?.slo ? ` (${r.labels.slo})` : ''}`, r.expr] as const,
    ),
  ])('When the expression of %s is scanned, then every metric in it is known or recorded', (_name, expr) => {
    const names = metricNamesInExpr(expr);
    const unknown = names.filter((n) => !known.has(n) && !recorded.has(n));
    expect(unknown).toEqual([]);
  });

  it('When a recording rule is used by an alert, then it is defined in the rule files', () => {
    const used = alerts.flatMap((a) => metricNamesInExpr(a.expr)).filter((n) => n.includes(':'));
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) expect(recorded).toContain(name);
  });
});
