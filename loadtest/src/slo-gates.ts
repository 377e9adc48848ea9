/**
 * The load gates, read from the file the burn-rate alerts are rendered from (monitoring/slo/slos.yml), so a
 * gate and an alert cannot disagree: the latency SLO's threshold at its objective's percentile, the
 * availability SLO's error budget as the largest 5xx share, and the client-side gates of `load_gates`.
 */
import { errorBudget, parseSloSpec } from '../../monitoring/slo/render-rules';
import {
  activeSeconds,
  counter,
  counterSum,
  RESPONSE_TIME,
  type ArtilleryReport,
  type Summary,
} from './artillery-report';
import type { ScenarioPlan } from './scenario-plan';

type Percentile = 'p50' | 'p75' | 'p90' | 'p95' | 'p99';
const PERCENTILES: Record<string, Percentile> = {
  '0.5': 'p50',
  '0.75': 'p75',
  '0.9': 'p90',
  '0.95': 'p95',
  '0.99': 'p99',
};

export interface GateThresholds {
  /** From the latency SLO: `percentile` of the response time within `thresholdMs`. */
  latency: { percentile: Percentile; thresholdMs: number; alert: string };
  p95Ms: number;
  /** From the availability SLO: its error budget. */
  max5xxShare: number;
  availabilityAlert: string;
  maxConnectionErrors: number;
  maxOverrunRatio: number;
}

export function gateThresholds(sloSpecText: string): GateThresholds {
  const spec = parseSloSpec(sloSpecText);
  const latency = spec.slos.find((slo) => 'threshold_seconds' in slo);
  const availability = spec.slos.find((slo) => 'errors' in slo);
  if (latency === undefined || !('threshold_seconds' in latency)) throw new Error('slos.yml: no latency SLO');
  if (availability === undefined) throw new Error('slos.yml: no availability SLO');
  const percentile = PERCENTILES[String(latency.objective)];
  if (percentile === undefined) {
    // Artillery's summaries stop at p99 for gating: its ensure plugin cannot parse p999.
    throw new Error(
      `slos.yml: a latency objective of ${latency.objective} has no Artillery percentile to gate`,
    );
  }
  return {
    latency: { percentile, thresholdMs: latency.threshold_seconds * 1000, alert: latency.alert },
    p95Ms: spec.load_gates.p95_seconds * 1000,
    max5xxShare: errorBudget(availability.objective),
    availabilityAlert: availability.alert,
    maxConnectionErrors: spec.load_gates.max_connection_errors,
    maxOverrunRatio: spec.load_gates.max_overrun_ratio,
  };
}

/**
 * The same thresholds as Artillery's own ensure block, so `artillery run` exits non-zero by itself too.
 * Conditions rather than `thresholds:` because thresholds are strict (<) and a missing metric fails them.
 */
export function ensureBlock(
  t: GateThresholds,
  options: { allowFailedUsers: boolean },
): Record<string, unknown> {
  return {
    conditions: [
      { expression: `${RESPONSE_TIME}.${t.latency.percentile} <= ${t.latency.thresholdMs}` },
      { expression: `${RESPONSE_TIME}.p95 <= ${t.p95Ms}` },
      // maxErrorRate counts failed virtual users, not 5xx: the 5xx share needs its own condition.
      { expression: `(${RESPONSE_TIME}.5xx.count or 0) / http.responses <= ${t.max5xxShare}` },
    ],
    ...(options.allowFailedUsers ? {} : { maxErrorRate: 0 }),
  };
}

export interface Check {
  name: string;
  ok: boolean;
  limit: string;
  actual: string;
  /** By how much it passed or failed, in words. */
  margin: string;
  /** A failed validity check means the run proves nothing (not that the service is slow). */
  validity?: boolean;
}

const ms = (value: number) => `${Number(value.toFixed(1))} ms`;
const pct = (value: number) => `${Number((value * 100).toPrecision(3))}%`;

function atMost(name: string, actual: number, limit: number, format: (v: number) => string): Check {
  const ok = actual <= limit;
  const diff = Math.abs(actual - limit);
  return {
    name,
    ok,
    limit: `<= ${format(limit)}`,
    actual: format(actual),
    margin: ok ? (diff === 0 ? '' : `${format(diff)} to spare`) : `${format(diff)} over`,
  };
}

export interface EvaluateOptions {
  plan: ScenarioPlan;
  /** Error codes (e.g. ECONNREFUSED before a cold service listens) that are not held against the run. */
  allowedErrors?: readonly string[];
  allow4xx?: boolean;
}

/** Every gate of one run, from Artillery's aggregate; a run passes when every check is ok. */
export function evaluate(report: ArtilleryReport, t: GateThresholds, options: EvaluateOptions): Check[] {
  const a = report.aggregate;
  const responses = counter(a, 'http.responses');
  const summary: Partial<Summary> = a.summaries[RESPONSE_TIME] ?? {};
  const checks: Check[] = [];

  checks.push({
    name: 'responses received',
    ok: responses > 0,
    limit: '> 0',
    actual: String(responses),
    margin: responses > 0 ? '' : 'nothing was measured',
    validity: true,
  });
  const p = t.latency.percentile;
  checks.push(atMost(`latency ${p} (SLO)`, summary[p] ?? Infinity, t.latency.thresholdMs, ms));
  checks.push(atMost('latency p95', summary.p95 ?? Infinity, t.p95Ms, ms));

  const fiveXx = counterSum(a, 'http.codes.5');
  const share = responses === 0 ? 0 : fiveXx / responses;
  const fiveXxCheck = atMost('5xx share (SLO)', share, t.max5xxShare, pct);
  fiveXxCheck.actual = `${pct(share)} (${fiveXx} of ${responses})`;
  if (!fiveXxCheck.ok) fiveXxCheck.margin += `: ${(share / t.max5xxShare).toFixed(1)}x the error budget`;
  checks.push(fiveXxCheck);

  const allowed = new Set(options.allowedErrors ?? []);
  const errors = Object.entries(a.counters).filter(
    ([name]) => name.startsWith('errors.') && !allowed.has(name.slice('errors.'.length)),
  );
  const errorCount = errors.reduce((sum, [, value]) => sum + value, 0);
  const errorCheck = atMost('connection errors', errorCount, t.maxConnectionErrors, String);
  if (errors.length > 0) errorCheck.actual += ` (${errors.map(([n, v]) => `${n.slice(7)} ${v}`).join(', ')})`;
  checks.push(errorCheck);

  if (!options.allow4xx) checks.push(atMost('4xx responses', counterSum(a, 'http.codes.4'), 0, String));
  checks.push(atMost('price bodies not decimal', counter(a, 'price.body_invalid'), 0, String));
  if ('plugins.expect.ok' in a.counters || 'plugins.expect.failed' in a.counters) {
    checks.push(atMost('expectations failed', counter(a, 'plugins.expect.failed'), 0, String));
  }

  // The generator fell behind when the run stretched past its plan or created fewer users: it then sent
  // less load than planned and its latency figures flatter the service, so the run is invalid.
  const planned = options.plan.plannedSeconds;
  const took = activeSeconds(a);
  const overrun = planned === 0 ? 0 : took / planned - 1;
  const created = counter(a, 'vusers.created');
  const shortfall = options.plan.plannedArrivals === 0 ? 0 : 1 - created / options.plan.plannedArrivals;
  const kept = overrun <= t.maxOverrunRatio && shortfall <= t.maxOverrunRatio;
  checks.push({
    name: 'generator kept up',
    ok: kept,
    limit: `<= ${pct(t.maxOverrunRatio)} longer than the planned ${planned.toFixed(1)} s, users >= ${pct(1 - t.maxOverrunRatio)} of ${options.plan.plannedArrivals}`,
    actual: `${took.toFixed(1)} s (${overrun >= 0 ? '+' : ''}${pct(overrun)}), ${created} users`,
    margin: kept ? '' : 'the generator fell behind: the gate is invalid, not passed',
    validity: true,
  });
  return checks;
}
