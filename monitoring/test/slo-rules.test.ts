import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import {
  alertWindows,
  durationSeconds,
  errorBudget,
  parseSloSpec,
  renderSloRules,
} from '../slo/render-rules';
import { HTTP_DURATION_BUCKETS, PRICE_ROUTE, SERVICE_JOB } from './known-metrics';
import { repoPath } from './paths';

const SPEC_PATH = repoPath('monitoring', 'slo', 'slos.yml');
const RULES_PATH = repoPath('monitoring', 'prometheus', 'rules', 'slo.yml');
const specText = readFileSync(SPEC_PATH, 'utf8');
const spec = parseSloSpec(specText);

describe('SLOs as data (monitoring/slo/slos.yml)', () => {
  // The committed file is written by make generate (monitoring/alerts/render-rule-files.ts).
  it('When the spec is rendered, then the committed rules file holds exactly the rendered rules', () => {
    expect(load(readFileSync(RULES_PATH, 'utf8'))).toEqual(renderSloRules(spec));
  });

  it('When the SLO objectives are read, then availability is 99.9% and latency is 99% within 100ms', () => {
    expect(
      spec.slos.map((slo) => [
        slo.name,
        slo.objective,
        'threshold_seconds' in slo ? slo.threshold_seconds : null,
      ]),
    ).toEqual([
      ['availability', 0.999, null],
      ['latency', 0.99, 0.1],
    ]);
    expect(errorBudget(0.999)).toBe(0.001);
    expect(spec.period).toBe('30d');
  });

  it('When a latency threshold is used, then it is an exact bucket boundary of http_request_duration_seconds', () => {
    for (const slo of spec.slos) {
      if ('threshold_seconds' in slo) expect(HTTP_DURATION_BUCKETS).toContain(slo.threshold_seconds);
    }
  });

  it('When the burn-rate windows are read, then they are the SRE workbook pairs for a 30-day period', () => {
    const pairs = (kind: 'page' | 'ticket') =>
      spec.alerting[kind].windows.map((w) => `${w.burn_rate}x ${w.long}+${w.short}`);
    expect(pairs('page')).toEqual(['14.4x 1h+5m', '6x 6h+30m']);
    expect(pairs('ticket')).toEqual(['3x 1d+2h', '1x 3d+6h']);
    expect([spec.alerting.page.severity, spec.alerting.ticket.severity]).toEqual(['critical', 'warning']);
    expect(alertWindows(spec)).toEqual(['5m', '30m', '1h', '2h', '6h', '1d', '3d']);
    // Each pair spends the budget share the workbook names: burn x long / period.
    const share = (w: { long: string; burn_rate: number }) =>
      Number(((w.burn_rate * durationSeconds(w.long)) / durationSeconds(spec.period)).toFixed(3));
    expect(spec.alerting.page.windows.map(share)).toEqual([0.02, 0.05]);
    expect(spec.alerting.ticket.windows.map(share)).toEqual([0.1, 0.1]);
  });

  it('When the SLIs are read, then both count every request to the price route of the service job', () => {
    expect(spec.requests).toBe(
      `http_request_duration_seconds_count{job="${SERVICE_JOB}",route="${PRICE_ROUTE}"}`,
    );
    const availability = spec.slos.find((slo) => slo.name === 'availability');
    expect(availability && 'errors' in availability && availability.errors).toBe(
      `http_request_duration_seconds_count{job="${SERVICE_JOB}",route="${PRICE_ROUTE}",status_code=~"5.."}`,
    );
  });

  it('When the page alert is rendered, then both window pairs carry the traffic guard on their long window', () => {
    const alerts = renderSloRules(spec)
      .groups.flatMap((g) => g.rules)
      .filter((r) => 'alert' in r);
    const page = alerts.find(
      (r) => 'alert' in r && r.alert === 'PriceAvailabilityBudgetBurn' && r.labels.severity === 'critical',
    );
    expect(page?.expr).toContain('job:slo_error:ratio_rate1h{slo="availability"} > (14.4 * 0.001)');
    expect(page?.expr).toContain('job:slo_error:ratio_rate5m{slo="availability"} > (14.4 * 0.001)');
    expect(page?.expr).toContain('and on (job)\n  job:slo_requests:rate1h > 1');
    expect(page?.expr).toContain('job:slo_error:ratio_rate30m{slo="availability"} > (6 * 0.001)');
    expect(page?.expr).toContain('and on (job)\n  job:slo_requests:rate6h > 1');
    expect(alerts).toHaveLength(4);
  });

  it('When a latency SLO names a threshold that its good selector does not use, then the spec is refused', () => {
    const broken = specText.replace('threshold_seconds: 0.1', 'threshold_seconds: 0.25');
    expect(() => parseSloSpec(broken)).toThrow('the good selector must match le="0.25"');
  });

  it('When an alert name is not UpperCamelCase, then the spec is refused', () => {
    expect(() =>
      parseSloSpec(specText.replace('alert: PriceLatencyBudgetBurn', 'alert: price_latency')),
    ).toThrow('UpperCamelCase');
  });
});
