import type { ArtilleryReport, ArtilleryWindow, Summary } from '../src/artillery-report';

export function summary(p99: number, p95 = p99 / 2): Summary {
  return {
    min: 0,
    max: p99 * 2,
    count: 1000,
    mean: p95 / 2,
    p50: 1,
    p75: 2,
    p90: 3,
    p95,
    p99,
    p999: p99 * 1.5,
  };
}

/** An Artillery aggregate: 1000 responses in 35 s from 310 users unless overridden. */
export function report(
  overrides: { counters?: Record<string, number>; p99?: number; p95?: number; seconds?: number } = {},
): ArtilleryReport {
  const start = 1_796_000_000_000;
  const aggregate: ArtilleryWindow = {
    period: start,
    counters: {
      'http.requests': 1000,
      'http.responses': 1000,
      'http.codes.200': 1000,
      'vusers.created': 310,
      'vusers.completed': 310,
      'vusers.failed': 0,
      ...overrides.counters,
    },
    rates: { 'http.request_rate': 30 },
    summaries: { 'http.response_time': summary(overrides.p99 ?? 20, overrides.p95) },
    firstCounterAt: start,
    lastCounterAt: start + (overrides.seconds ?? 35) * 1000,
  };
  return { aggregate, intermediate: [{ ...aggregate, period: String(start) }] };
}

export const STEADY_PLAN = { arrivalSeconds: 5, flowSeconds: 30, plannedSeconds: 35, plannedArrivals: 310 };
