/** The suite's result as the table run.ts and chaos.test.ts print: one line per fault, then its notes. */
import { EXCHANGES } from '../../../mock-exchange/src/mock-exchange';
import type { Window } from './load';
import type { Row } from './row-targets';
import type { SuiteResult } from './suite';

// The table

const fmt = (n: number) => String(n);

function statusesOf(w: Window): string {
  const parts: string[] = [];
  for (const key of ['ok', 'degraded', 'stale', 'unparsed']) {
    const n = w.statuses.get(key);
    if (n !== undefined) parts.push(`${key === 'degraded' ? 'deg' : key} ${n}`);
  }
  return parts.join(', ') || '-';
}

function non2xxOf(w: Window): string {
  if (w.non2xx.size === 0) return '0';
  return [...w.non2xx].map(([status, n]) => `${status}:${n}`).join(' ');
}

function alertsOf(row: Row): string {
  if (row.alerts === undefined) return 'not evaluated';
  if (row.alerts.size === 0) return 'none';
  return [...row.alerts].map(([name, state]) => `${name}${state === 'firing' ? ' (firing)' : ''}`).join(', ');
}

export function formatTable(result: SuiteResult): string {
  const header = [
    'fault',
    'sent',
    '2xx/304',
    'non-2xx',
    'conn err',
    'worst ageMs',
    'statuses',
    'wrong',
    `calls/interval ${EXCHANGES.map((e) => e.slice(0, 2)).join('/')}`,
    'alert expr true (Prometheus)',
    'target',
  ];
  const lines = result.rows.map((row) => {
    const w = row.window;
    return [
      row.fault.title,
      fmt(w.sent),
      `${w.ok2xx}/${w.notModified}`,
      non2xxOf(w),
      fmt(w.connectionErrors),
      fmt(w.worstAgeMs),
      statusesOf(w),
      fmt(w.wrongCount),
      row.callsPerInterval.map((c) => c.toFixed(1)).join('/'),
      alertsOf(row),
      row.failures.length === 0 ? 'met' : 'MISSED',
    ];
  });
  for (const skip of result.skipped)
    lines.push([skip.id, '-', '-', '-', '-', '-', '-', '-', '-', '-', `not run: ${skip.reason}`]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const render = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  const out = [render(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(render)];
  out.push('');
  for (const row of result.rows) {
    for (const note of row.notes) out.push(`- ${row.fault.id}: ${note}`);
    for (const failure of row.failures) out.push(`- ${row.fault.id}: MISSED ${failure}`);
  }
  return out.join('\n');
}
