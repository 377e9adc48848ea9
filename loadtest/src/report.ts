/**
 * What people read after a run: a plain-text summary on stdout and one self-contained HTML file (inline CSS
 * and SVG, no script, nothing fetched) with the gates, latency and rate over time, status codes and the
 * server's p99 beside the client's. Artillery 2.0.34 no longer renders reports itself.
 */
import { counterSum, type ArtilleryWindow } from './artillery-report';
import type { ScenarioResult } from './run-scenario';
import type { GateThresholds } from './slo-gates';

const num = (v: number, digits = 1) => (Number.isFinite(v) ? Number(v.toFixed(digits)).toString() : '-');

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map(
      (r) =>
        '  ' +
        r
          .map((cell, i) => cell.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd(),
    )
    .join('\n');
}

export function clientServerLine(r: ScenarioResult): string {
  const server = Number.isFinite(r.server.p99Ms)
    ? `server p99 ${num(r.server.p99Ms, 2)} ms (histogram delta over ${r.server.requests} requests)`
    : 'server p99 - (no requests recorded)';
  const flag = r.divergence.flagged
    ? `: ${r.divergence.buckets} buckets apart, more than one; client time includes the generator's own queueing (docs/load-testing.md)`
    : '';
  return `client p99 ${num(r.client.p99)} ms, ${server}${flag}`;
}

export function textSummary(results: ScenarioResult[], t: GateThresholds, runDir: string): string {
  const out: string[] = [];
  out.push(
    `\nLoad gates from monitoring/slo/slos.yml: ${t.latency.percentile} <= ${t.latency.thresholdMs} ms (${t.latency.alert}), ` +
      `p95 <= ${t.p95Ms} ms, 5xx share <= ${t.max5xxShare * 100}% (${t.availabilityAlert}), ` +
      `connection errors <= ${t.maxConnectionErrors}, run <= ${t.maxOverrunRatio * 100}% over plan`,
  );
  for (const r of results) {
    out.push(
      `\n${r.passed ? 'PASS' : 'FAIL'} ${r.name}: ${r.requests} requests in ${num(r.activeSeconds)} s ` +
        `(planned ${num(r.plan.plannedSeconds)} s), ${num(r.sustainedRps, 0)} req/s sustained, busiest 10 s window ${num(r.peakRps, 0)} req/s`,
    );
    out.push(
      table([
        ['check', 'limit', 'actual', 'result'],
        ...r.checks.map((c) => [
          c.name,
          c.limit,
          c.actual,
          `${c.ok ? 'ok' : 'FAILED'}${c.margin ? ` (${c.margin})` : ''}`,
        ]),
      ]),
    );
    out.push(`  ${clientServerLine(r)}`);
    const codes = Object.entries(r.codes)
      .map(([code, n]) => `${code} ${n}`)
      .join(', ');
    const statuses = Object.entries(r.statuses)
      .map(([s, n]) => `${s} ${n}`)
      .join(', ');
    out.push(`  status codes: ${codes || 'none'}; price status in 200s: ${statuses || 'none'}`);
    if (Object.keys(r.errors).length > 0) {
      out.push(
        `  errors: ${Object.entries(r.errors)
          .map(([e, n]) => `${e} ${n}`)
          .join(', ')}`,
      );
    }
    if (r.streams) {
      const f = r.streams;
      out.push(
        `  streams: ${f.connected} of ${f.wanted} subscribers connected, ${f.closedEarly} cut off; price events per subscriber ` +
          `${f.priceEvents.min} fewest, ${f.priceEvents.median} median, ${f.priceEvents.max} most; ${f.duplicates} received twice; ${f.statusEvents} status events`,
      );
    }
    if (r.rssMb)
      out.push(
        `  service RSS (all processes): ${num(r.rssMb.before)} MB before, ${num(r.rssMb.after)} MB after`,
      );
    for (const e of r.events) out.push(`  ${e}`);
  }
  const failed = results.filter((r) => !r.passed);
  out.push('');
  for (const r of failed) {
    for (const c of r.checks.filter((check) => !check.ok)) {
      out.push(
        `FAILED ${r.name}: ${c.name}: ${c.actual}, limit ${c.limit}${c.margin ? `; ${c.margin}` : ''}`,
      );
    }
  }
  out.push(`${results.length - failed.length} passed, ${failed.length} failed  (reports: ${runDir})`);
  return out.join('\n');
}

const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

interface Series {
  name: string;
  color: string;
  points: [number, number][];
  dashed?: boolean;
}

/** A small line chart in SVG: x in seconds since the run started, one polyline per series. */
function lineChart(title: string, unit: string, series: Series[]): string {
  const W = 560;
  const H = 200;
  const pad = { l: 48, r: 12, t: 24, b: 28 };
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return `<figure><figcaption>${esc(title)}: no data</figcaption></figure>`;
  const maxX = Math.max(1, ...all.map(([x]) => x));
  const maxY = Math.max(1, ...all.map(([, y]) => (Number.isFinite(y) ? y : 0))) * 1.1;
  const sx = (x: number) => pad.l + (x / maxX) * (W - pad.l - pad.r);
  const sy = (y: number) => H - pad.b - (y / maxY) * (H - pad.t - pad.b);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * maxY);
  const grid = ticks
    .map(
      (v) =>
        `<line x1="${pad.l}" x2="${W - pad.r}" y1="${sy(v)}" y2="${sy(v)}" class="grid"/><text x="${pad.l - 4}" y="${sy(v) + 4}" text-anchor="end">${num(v, v < 10 ? 1 : 0)}</text>`,
    )
    .join('');
  const xTicks = [0, 0.5, 1]
    .map((f) => `<text x="${sx(f * maxX)}" y="${H - 8}" text-anchor="middle">${num(f * maxX, 0)} s</text>`)
    .join('');
  const lines = series
    .map(
      (s) =>
        `<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''} points="${s.points
          .filter(([, y]) => Number.isFinite(y))
          .map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
          .join(' ')}"/>`,
    )
    .join('');
  const legend = series
    .map((s, i) => `<text x="${pad.l + 8 + i * 110}" y="14" fill="${s.color}">■ ${esc(s.name)}</text>`)
    .join('');
  return `<figure><figcaption>${esc(title)} (${esc(unit)})</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">${grid}${xTicks}${lines}${legend}</svg></figure>`;
}

function windowsOf(r: ScenarioResult): { at: number; w: ArtilleryWindow }[] {
  const windows = [...r.report.intermediate].sort((x, y) => Number(x.period) - Number(y.period));
  const start = Number(windows[0]?.period ?? 0);
  // Each point sits at the middle of its 10 s window.
  return windows.map((w) => ({ at: (Number(w.period) - start) / 1000 + 5, w }));
}

function scenarioSection(r: ScenarioResult, t: GateThresholds): string {
  const windows = windowsOf(r);
  const latency = (key: 'p50' | 'p95' | 'p99') =>
    windows.map(({ at, w }) => [at, w.summaries['http.response_time']?.[key] ?? NaN] as [number, number]);
  const span = windows.map(({ at }) => at);
  const charts = [
    lineChart('Client latency per 10 s window', 'ms', [
      { name: 'p50', color: '#2b8a3e', points: latency('p50') },
      { name: 'p95', color: '#e67700', points: latency('p95') },
      { name: 'p99', color: '#c92a2a', points: latency('p99') },
      {
        name: `SLO ${t.latency.thresholdMs} ms`,
        color: '#868e96',
        dashed: true,
        points:
          span.length > 0
            ? [
                [0, t.latency.thresholdMs],
                [Math.max(...span), t.latency.thresholdMs],
              ]
            : [],
      },
    ]),
    lineChart('Request rate and 5xx per 10 s window', 'per second', [
      {
        name: 'requests/s',
        color: '#1971c2',
        points: windows.map(({ at, w }) => [at, w.rates['http.request_rate'] ?? 0]),
      },
      {
        name: '5xx/s',
        color: '#c92a2a',
        points: windows.map(({ at, w }) => [at, counterSum(w, 'http.codes.5') / 10]),
      },
    ]),
  ].join('');
  const checks = r.checks
    .map(
      (c) =>
        `<tr class="${c.ok ? 'ok' : 'bad'}"><td>${esc(c.name)}</td><td>${esc(c.limit)}</td><td>${esc(c.actual)}</td><td>${c.ok ? 'ok' : 'FAILED'}</td><td>${esc(c.margin)}</td></tr>`,
    )
    .join('');
  const kv = (o: Record<string, number>) =>
    Object.entries(o)
      .map(([k, v]) => `<tr><td>${esc(k)}</td><td>${v}</td></tr>`)
      .join('') || '<tr><td colspan="2">none</td></tr>';
  return `<section>
<h2 class="${r.passed ? 'ok' : 'bad'}">${r.passed ? 'PASS' : 'FAIL'} ${esc(r.name)}</h2>
<p>${esc(r.proves)}.</p>
<p>${r.requests} requests in ${num(r.activeSeconds)} s (planned ${num(r.plan.plannedSeconds)} s, ${r.plan.plannedArrivals} users);
${num(r.sustainedRps, 0)} req/s sustained, busiest window ${num(r.peakRps, 0)} req/s.</p>
<table><thead><tr><th>check</th><th>limit</th><th>actual</th><th>result</th><th>margin</th></tr></thead><tbody>${checks}</tbody></table>
<table><thead><tr><th></th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th></tr></thead><tbody>
<tr><td>client (Artillery, time to first byte)</td><td>${num(r.client.p50)}</td><td>${num(r.client.p95)}</td><td>${num(r.client.p99)}</td></tr>
<tr><td>server (price route histogram delta, ${r.server.requests} requests)</td><td>${num(r.server.p50Ms, 2)}</td><td>${num(r.server.p95Ms, 2)}</td><td>${num(r.server.p99Ms, 2)}</td></tr>
</tbody></table>
<p>${esc(clientServerLine(r))}</p>
<div class="charts">${charts}</div>
<div class="charts"><table><thead><tr><th>status code</th><th>responses</th></tr></thead><tbody>${kv(r.codes)}</tbody></table>
<table><thead><tr><th>price status (200s)</th><th>responses</th></tr></thead><tbody>${kv(r.statuses)}</tbody></table>
<table><thead><tr><th>error</th><th>count</th></tr></thead><tbody>${kv(r.errors)}</tbody></table></div>
${r.events.length > 0 ? `<ul>${r.events.map((e) => `<li>${esc(e)}</li>`).join('')}</ul>` : ''}
</section>`;
}

export function htmlReport(results: ScenarioResult[], t: GateThresholds, startedAt: Date): string {
  const passed = results.every((r) => r.passed);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Load gate ${passed ? 'PASS' : 'FAIL'}: ${esc(startedAt.toISOString())}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#212529;max-width:1200px}
h1,h2{margin:.6em 0 .3em}.ok{color:#2b8a3e}.bad{color:#c92a2a}
table{border-collapse:collapse;margin:8px 16px 8px 0}td,th{border:1px solid #dee2e6;padding:3px 8px;text-align:left}
tr.bad td{background:#fff5f5}.charts{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
figure{margin:0}figcaption{font-weight:600}svg text{font-size:11px;fill:#495057}.grid{stroke:#e9ecef}
section{border-top:1px solid #dee2e6;margin-top:16px}
</style></head><body>
<h1 class="${passed ? 'ok' : 'bad'}">Load gate ${passed ? 'passed' : 'failed'}</h1>
<p>Run of ${esc(startedAt.toISOString())}. Gates from <code>monitoring/slo/slos.yml</code>:
${t.latency.percentile} &le; ${t.latency.thresholdMs} ms (the latency SLO behind ${esc(t.latency.alert)}), p95 &le; ${t.p95Ms} ms,
5xx share &le; ${t.max5xxShare * 100}% (the availability SLO behind ${esc(t.availabilityAlert)}), connection errors &le; ${t.maxConnectionErrors},
and the run no more than ${t.maxOverrunRatio * 100}% longer than planned. How to read this: docs/load-testing.md.</p>
${results.map((r) => scenarioSection(r, t)).join('\n')}
</body></html>
`;
}
