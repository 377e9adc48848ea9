import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ensureBlock, evaluate, gateThresholds, type Check } from '../src/slo-gates';
import { report, STEADY_PLAN } from './fixtures';

const SLOS_PATH = path.resolve(__dirname, '../../monitoring/slo/slos.yml');
const slosText = readFileSync(SLOS_PATH, 'utf8');
const thresholds = gateThresholds(slosText);
const byName = (checks: Check[], name: string) => {
  const check = checks.find((c) => c.name === name);
  if (check === undefined) throw new Error(`no check ${name}: ${checks.map((c) => c.name).join(', ')}`);
  return check;
};

describe('load gates read from monitoring/slo/slos.yml', () => {
  it('takes the latency SLO at its percentile, the availability error budget and the load_gates block', () => {
    expect(thresholds).toEqual({
      latency: { percentile: 'p99', thresholdMs: 100, alert: 'PriceLatencyBudgetBurn' },
      p95Ms: 50,
      max5xxShare: 0.001,
      availabilityAlert: 'PriceAvailabilityBudgetBurn',
      maxConnectionErrors: 0,
      maxOverrunRatio: 0.1,
    });
  });

  it('follows the SLO file: a tighter latency threshold there is a tighter gate here', () => {
    const tighter = slosText
      .replace('threshold_seconds: 0.1', 'threshold_seconds: 0.05')
      .replace('le="0.1"', 'le="0.05"');
    expect(gateThresholds(tighter).latency.thresholdMs).toBe(50);
  });

  it('refuses an objective Artillery cannot gate and a missing load_gates block', () => {
    expect(() => gateThresholds(slosText.replace('objective: 0.99\n', 'objective: 0.999\n'))).toThrow(
      'no Artillery percentile',
    );
    expect(() => gateThresholds(slosText.replace('load_gates:', 'load_gatez:'))).toThrow();
  });

  it("builds Artillery's ensure block from the same numbers, with the 5xx share as a condition", () => {
    const block = ensureBlock(thresholds, { allowFailedUsers: false });
    expect(block).toEqual({
      conditions: [
        { expression: 'http.response_time.p99 <= 100' },
        { expression: 'http.response_time.p95 <= 50' },
        { expression: '(http.response_time.5xx.count or 0) / http.responses <= 0.001' },
      ],
      maxErrorRate: 0,
    });
    expect(ensureBlock(thresholds, { allowFailedUsers: true })).not.toHaveProperty('maxErrorRate');
  });
});

describe('evaluating a run', () => {
  it('passes a run within every gate', () => {
    const checks = evaluate(report(), thresholds, { plan: STEADY_PLAN });
    expect(checks.filter((c) => !c.ok)).toEqual([]);
  });

  it('fails a slow p99 and says by how much', () => {
    const check = byName(
      evaluate(report({ p99: 130 }), thresholds, { plan: STEADY_PLAN }),
      'latency p99 (SLO)',
    );
    expect(check).toMatchObject({ ok: false, actual: '130 ms', limit: '<= 100 ms', margin: '30 ms over' });
  });

  it('fails p95 on its own threshold', () => {
    const check = byName(
      evaluate(report({ p99: 90, p95: 60 }), thresholds, { plan: STEADY_PLAN }),
      'latency p95',
    );
    expect(check).toMatchObject({ ok: false, margin: '10 ms over' });
  });

  it('fails 5xx above the error budget and passes them at it', () => {
    const over = evaluate(report({ counters: { 'http.codes.200': 995, 'http.codes.503': 5 } }), thresholds, {
      plan: STEADY_PLAN,
    });
    expect(byName(over, '5xx share (SLO)')).toMatchObject({ ok: false, actual: '0.5% (5 of 1000)' });
    expect(byName(over, '5xx share (SLO)').margin).toContain('5.0x the error budget');
    const at = evaluate(report({ counters: { 'http.codes.200': 999, 'http.codes.500': 1 } }), thresholds, {
      plan: STEADY_PLAN,
    });
    expect(byName(at, '5xx share (SLO)').ok).toBe(true);
  });

  it('fails connection errors unless the scenario expects that code', () => {
    const counters = { 'errors.ECONNREFUSED': 3, 'errors.ECONNRESET': 1 };
    const checks = evaluate(report({ counters }), thresholds, { plan: STEADY_PLAN });
    expect(byName(checks, 'connection errors')).toMatchObject({
      ok: false,
      actual: '4 (ECONNREFUSED 3, ECONNRESET 1)',
    });
    const cold = evaluate(report({ counters }), thresholds, {
      plan: STEADY_PLAN,
      allowedErrors: ['ECONNREFUSED'],
    });
    expect(byName(cold, 'connection errors')).toMatchObject({ ok: false, actual: '1 (ECONNRESET 1)' });
    const refusedOnly = evaluate(report({ counters: { 'errors.ECONNREFUSED': 3 } }), thresholds, {
      plan: STEADY_PLAN,
      allowedErrors: ['ECONNREFUSED'],
    });
    expect(byName(refusedOnly, 'connection errors').ok).toBe(true);
  });

  it('calls a run that stretched past its plan, or created too few users, invalid', () => {
    const slow = byName(
      evaluate(report({ seconds: 40 }), thresholds, { plan: STEADY_PLAN }),
      'generator kept up',
    );
    expect(slow).toMatchObject({ ok: false, validity: true });
    expect(slow.actual).toBe('40.0 s (+14.3%), 310 users');
    const few = evaluate(report({ counters: { 'vusers.created': 250 } }), thresholds, { plan: STEADY_PLAN });
    expect(byName(few, 'generator kept up').ok).toBe(false);
    const onTime = evaluate(report({ seconds: 38 }), thresholds, { plan: STEADY_PLAN });
    expect(byName(onTime, 'generator kept up').ok).toBe(true);
  });

  it('fails a run that measured nothing, 4xx where none are expected, non-decimal prices and failed expectations', () => {
    const empty = evaluate(report({ counters: { 'http.responses': 0 } }), thresholds, { plan: STEADY_PLAN });
    expect(byName(empty, 'responses received').ok).toBe(false);
    const bad = evaluate(
      report({ counters: { 'http.codes.404': 2, 'price.body_invalid': 1, 'plugins.expect.failed': 1 } }),
      thresholds,
      { plan: STEADY_PLAN },
    );
    expect(byName(bad, '4xx responses').ok).toBe(false);
    expect(byName(bad, 'price bodies not decimal').ok).toBe(false);
    expect(byName(bad, 'expectations failed').ok).toBe(false);
    const smoke = evaluate(report({ counters: { 'http.codes.404': 2 } }), thresholds, {
      plan: STEADY_PLAN,
      allow4xx: true,
    });
    expect(smoke.map((c) => c.name)).not.toContain('4xx responses');
  });
});
