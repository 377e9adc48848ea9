/** make bench's streaming table and its targets, from the run's own figures. */
import { fmt } from './measure';
import type { StreamCount, StreamFigures } from './stream-section';
import { ratioTarget, type Target } from './targets';

/** Medians over the rounds of one loop, and the median per-round ratios. */
export interface LoopSummary {
  /** service req/s ÷ bare req/s */
  rpsRatio: number;
  /** bare CPU per request ÷ service CPU per request */
  cpuRatio: number;
  rps: { service: number; bare: number };
  cpuUs: { service: number; bare: number };
}

const KB = (bytes: number) => `${fmt(bytes / 1024, 2)} KB`;

export function printStreaming(counts: StreamCount[]): void {
  console.log(
    '\nStreaming: the service against the bare fan-out (same client, workers, event bytes and cadence)',
  );
  const header = [
    'subscribers',
    'side',
    'open',
    'anon/subscriber',
    'RSS/subscriber',
    'fan-out p50 ms',
    'p99 ms',
    'max ms',
    'snapshots',
    'events received',
    'CPU µs/event',
    'receipt spread p50/p99 ms',
  ];
  const cells = (f: StreamFigures) => [
    String(f.open),
    KB(f.bytesPerSubscriber),
    KB(f.rssBytesPerSubscriber),
    fmt(f.fanoutP50Ms, 2),
    fmt(f.fanoutP99Ms, 2),
    f.fanoutMaxMs,
    String(f.fanouts),
    String(f.eventsReceived),
    fmt(f.cpuUsPerEvent, 2),
    `${fmt(f.spreadP50Ms, 1)}/${fmt(f.spreadP99Ms, 1)}`,
  ];
  const ratio = (key: keyof StreamFigures, c: StreamCount) =>
    fmt((c.service[key] as number) / (c.bare[key] as number), 2);
  const rows = counts.flatMap((c) => [
    [String(c.subscribers), 'bare', ...cells(c.bare)],
    [String(c.subscribers), 'service', ...cells(c.service)],
    [
      String(c.subscribers),
      'ratio',
      '',
      ratio('bytesPerSubscriber', c),
      ratio('rssBytesPerSubscriber', c),
      ratio('fanoutP50Ms', c),
      ratio('fanoutP99Ms', c),
      '',
      '',
      '',
      ratio('cpuUsPerEvent', c),
      '',
    ],
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (row: string[]) => row.map((c, i) => c.padStart(widths[i] as number)).join(' | ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  for (const c of counts) {
    const exact = c.bare.fanoutExactMs;
    if (exact) {
      console.log(
        `bare fan-out at ${c.subscribers} from its raw timings (not bucketed): p50 ${fmt(exact.p50, 2)} ms, p99 ${fmt(exact.p99, 2)} ms`,
      );
    }
    if ([c.bare, c.service].some((f) => f.fanoutMaxMs.startsWith('>'))) {
      console.log(
        `note: at ${c.subscribers}, fan-outs past the histogram's last bound: a quantile there reads as that bound (a floor)`,
      );
    }
  }
}

export function benchTargets(run: {
  closed: LoopSummary;
  open: LoopSummary;
  openP99: number;
  openRps: number;
  rate: number;
  rateLimited: boolean;
  workerRss: { service: number; bare: number };
  largest: StreamCount | undefined;
  rest: { with: number; without: number };
  upstream: { exact: boolean; calls: number[]; intervals: number };
}): Target[] {
  const { closed, open, largest } = run;
  const stream = (key: 'fanoutP50Ms' | 'fanoutP99Ms' | 'cpuUsPerEvent' | 'bytesPerSubscriber') => ({
    service: largest?.service[key] ?? NaN,
    bare: largest?.bare[key] ?? NaN,
  });
  const n = largest?.subscribers;
  // A quantile past the histogram's last bound reads as that bound: a floor, whose ratio proves nothing.
  const fanout = (key: 'fanoutP50Ms' | 'fanoutP99Ms', label: string) => {
    const target = ratioTarget(
      label,
      { ...stream(key), unit: 'ms', digits: 2 },
      { ratio: 'service/bare', atMost: 1.2 },
    );
    const floor = (f: StreamFigures | undefined) =>
      f !== undefined && f.fanoutMaxMs.startsWith('>') && f[key] >= Number(f.fanoutMaxMs.slice(2));
    if (floor(largest?.service)) {
      target.service = `>= ${target.service} (past the last bucket)`;
      target.met = false;
    }
    return target;
  };
  const reqsRatio = ratioTarget(
    'closed loop req/s (same bytes and head)',
    { ...closed.rps, unit: 'req/s', digits: 0 },
    { ratio: 'service/bare', atLeast: 0.95 },
  );
  // The per-round ratios' median, not the ratio of medians: each round's two sides ran under the same load.
  reqsRatio.value = closed.rpsRatio;
  reqsRatio.met = closed.rpsRatio >= 0.95;
  if (run.rateLimited) reqsRatio.reported = true;
  const cpu = (label: string, summary: LoopSummary, bound: number) => {
    const target = ratioTarget(
      label,
      { ...summary.cpuUs, unit: 'µs/req' },
      { ratio: 'bare/service', atLeast: bound },
    );
    target.value = summary.cpuRatio;
    target.met = summary.cpuRatio >= bound;
    return target;
  };
  const kb = (f: { service: number; bare: number }) => ({ service: f.service / 1024, bare: f.bare / 1024 });
  return [
    reqsRatio,
    cpu('CPU per request, closed loop', closed, 0.9),
    cpu(`CPU per request, open loop at ${run.rate} req/s`, open, 0.85),
    ratioTarget(
      'worker RSS after the run (mean)',
      { ...run.workerRss, unit: 'MB' },
      { ratio: 'service/bare', atMost: 1.1 },
    ),
    fanout('fanoutP50Ms', `stream fan-out p50 at ${n}`),
    fanout('fanoutP99Ms', `stream fan-out p99 at ${n}`),
    ratioTarget(
      `stream CPU per delivered event at ${n}`,
      { ...stream('cpuUsPerEvent'), unit: 'µs', digits: 2 },
      { ratio: 'service/bare', atMost: 1.2 },
    ),
    ratioTarget(
      `stream memory per subscriber at ${n} (RssAnon)`,
      { ...kb(stream('bytesPerSubscriber')), unit: 'KB', digits: 2 },
      { ratio: 'service/bare', atMost: 1.2 },
    ),
    {
      name: `REST req/s ratio with ${n} subscribers connected vs without`,
      service: fmt(run.rest.with, 3),
      bare: `(without ${fmt(run.rest.without, 3)})`,
      value: run.rest.with - run.rest.without,
      bound: 'with - without >= -0.05',
      met: run.rest.with - run.rest.without >= -0.05,
    },
    {
      name: `stream subscribers held at ${n}`,
      service: String(largest?.service.open),
      bare: String(largest?.bare.open),
      value: (largest?.service.open ?? 0) / (n ?? 1),
      bound: 'all of them, both sides',
      met: largest !== undefined && largest.service.open === n && largest.bare.open === n,
    },
    {
      name: `open loop p99 at ${run.rate} req/s`,
      service: `${fmt(run.openP99, 2)} ms at ${run.openRps} req/s`,
      bare: '',
      value: run.openP99,
      bound: '<= 50 ms, >= 95% of the rate',
      met: run.openP99 <= 50 && run.openRps >= run.rate * 0.95,
    },
    {
      name: 'one upstream call per source per interval',
      service: JSON.stringify(run.upstream.calls),
      bare: '',
      value: run.upstream.intervals,
      bound: 'each within 1 of the intervals',
      met: run.upstream.exact,
    },
  ];
}
