/**
 * One row of the chaos suite (what one fault did to the clients, the mock and the alerts) and the targets
 * it is held to. chaos.test.ts shows each target failing on rows that break it.
 */
import type { Fault } from './faults';
import type { Window } from './load';

export interface Row {
  readonly fault: Fault;
  readonly window: Window;
  /** Mock calls per source per refresh interval while the fault was held (EXCHANGES order). */
  readonly callsPerInterval: readonly number[];
  /** Pending/firing alerts that were not active when the fault started; undefined without Prometheus. */
  readonly alerts: Map<string, 'pending' | 'firing'> | undefined;
  /** ms from clearing the fault until both replicas served fresh prices (undefined: not within the timeout). */
  readonly recoveredAfterMs: number | undefined;
  readonly notes: string[];
  readonly failures: string[];
}

/** The targets of one row; the strings say what was missed. */
export function evaluate(
  row: Omit<Row, 'failures'>,
  limits: { freshnessMs: number; maxStalenessMs: number; worstAgeLimitMs?: number },
): string[] {
  const w = row.window;
  const failures: string[] = [];
  if (w.wrongCount > 0) failures.push(`${w.wrongCount} price(s) outside the true band`);
  if (w.unflaggedStale > 0)
    failures.push(`${w.unflaggedStale} answer(s) older than CACHE_TTL not flagged stale`);
  if (w.overMaxStaleness > 0) failures.push(`${w.overMaxStaleness} 200(s) older than MAX_STALENESS`);
  if (w.statuses.has('unparsed')) failures.push('200 bodies without a status');
  if (limits.worstAgeLimitMs !== undefined && w.worstAgeMs > limits.worstAgeLimitMs) {
    failures.push(`worst ageMs ${w.worstAgeMs} > ${limits.worstAgeLimitMs}`);
  }
  if (row.fault.expect === 'absorb') {
    if (w.failed > 0) failures.push(`${w.failed} failed request(s)`);
  } else {
    if (w.connectionErrors > 0) failures.push(`${w.connectionErrors} connection error(s)`);
    for (const [status, count] of w.non2xx) {
      if (status !== 503) failures.push(`${count} answer(s) with status ${status}`);
    }
    if (w.missingRetryAfter > 0) failures.push(`${w.missingRetryAfter} 503(s) without Retry-After`);
    if (!w.statuses.has('stale')) failures.push('never served the last price flagged stale');
    if (!w.non2xx.has(503)) failures.push('never answered 503 past MAX_STALENESS');
    const first503 = w.firstSeen.get('503');
    const lastStale = w.lastSeen.get('stale');
    if (first503 !== undefined && lastStale !== undefined && row.recoveredAfterMs === undefined) {
      failures.push('stale and 503 seen but no recovery');
    }
  }
  if (row.recoveredAfterMs === undefined) failures.push('did not recover (fresh prices) within the timeout');
  for (const alert of row.fault.alerts ?? []) {
    if (row.alerts !== undefined && !row.alerts.has(alert)) failures.push(`alert ${alert} never pending`);
  }
  return failures;
}
