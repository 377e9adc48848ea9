import { readFileSync } from 'node:fs';
import path from 'node:path';
import { htmlReport, textSummary } from '../src/report';
import type { ScenarioResult } from '../src/run-scenario';
import { evaluate, gateThresholds } from '../src/slo-gates';
import { report, STEADY_PLAN } from './fixtures';

const thresholds = gateThresholds(
  readFileSync(path.resolve(__dirname, '../../monitoring/slo/slos.yml'), 'utf8'),
);

function result(p99: number): ScenarioResult {
  const r = report({ p99, counters: { 'http.codes.304': 200, 'price.status.ok': 800 } });
  const checks = evaluate(r, thresholds, { plan: STEADY_PLAN });
  return {
    name: 'steady',
    proves: 'a <test> & its "quotes"',
    passed: checks.every((c) => c.ok),
    checks,
    plan: STEADY_PLAN,
    activeSeconds: 35,
    requests: 1000,
    sustainedRps: 28.6,
    peakRps: 30,
    client: { p50: 1, p95: p99 / 2, p99, max: p99 * 2 },
    server: { requests: 1000, p50Ms: 0.5, p95Ms: 0.9, p99Ms: 1.2, byStatus: { '200': 1000 } },
    divergence: { buckets: 4, flagged: true },
    codes: { '200': 1000, '304': 200 },
    statuses: { ok: 800 },
    errors: {},
    artillery: { exitCode: 0, ensure: [] },
    events: ['+8s mock okx: {"type":"latency"}'],
    files: { report: 'r.json', script: 's.yml', log: 'a.log', serviceLog: 's.log' },
    report: r,
  };
}

describe('the run report', () => {
  it('is one self-contained HTML file: no script, nothing fetched, text escaped', () => {
    const html = htmlReport([result(20)], thresholds, new Date('2026-12-01T00:00:00Z'));
    expect(html).not.toMatch(/<script|<link|src=|href=|url\(/i);
    expect(html).not.toContain('<test>');
    expect(html).toContain('a &lt;test&gt; &amp; its &quot;quotes&quot;');
    expect(html).toContain('<svg');
    expect(html).toContain('server (price route histogram delta, 1000 requests)');
    expect(html).toContain('p99 &le; 100 ms');
  });

  it('prints which check failed and by how much, and the closing count', () => {
    const text = textSummary([result(20), { ...result(150), name: 'spike' }], thresholds, 'reports/x');
    expect(text).toContain('PASS steady');
    expect(text).toContain('FAIL spike');
    expect(text).toContain('FAILED spike: latency p99 (SLO): 150 ms, limit <= 100 ms; 50 ms over');
    expect(text).toContain('client p99 150 ms, server p99 1.2 ms');
    expect(text).toMatch(/^1 passed, 1 failed/m);
  });
});
