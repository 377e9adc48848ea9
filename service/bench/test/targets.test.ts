import { bucketize, quantile } from '../measure';
import { headDifference } from '../raw-http';
import { benchTargets, type LoopSummary } from '../report';
import type { StreamFigures } from '../stream-section';
import { allMet, ratioTarget } from '../targets';

const stream = (overrides: Partial<StreamFigures> = {}): StreamFigures => ({
  open: 10_000,
  bytesPerSubscriber: 13_000,
  rssBytesPerSubscriber: 13_000,
  fanouts: 16,
  fanoutP50Ms: 100,
  fanoutP99Ms: 200,
  fanoutMaxMs: '<= 250',
  eventsReceived: 80_000,
  cpuUsPerEvent: 10,
  spreadP50Ms: 50,
  spreadP99Ms: 90,
  ...overrides,
});
const loop = (rpsRatio: number, cpuRatio: number): LoopSummary => ({
  rpsRatio,
  cpuRatio,
  rps: { service: 1000 * rpsRatio, bare: 1000 },
  cpuUs: { service: 40 / cpuRatio, bare: 40 },
});
const run = (changes: Partial<Parameters<typeof benchTargets>[0]> = {}) =>
  benchTargets({
    closed: loop(0.96, 0.92),
    open: loop(1, 0.86),
    openP99: 5,
    openRps: 5000,
    rate: 5000,
    rateLimited: false,
    workerRss: { service: 95, bare: 90 },
    largest: { subscribers: 10_000, service: stream(), bare: stream() },
    rest: { with: 0.93, without: 0.96 },
    upstream: { exact: true, calls: [10, 10], intervals: 10 },
    ...changes,
  });
const result = (targets: ReturnType<typeof run>, name: string) =>
  targets.find((t) => t.name.startsWith(name))?.met;

describe('make bench targets', () => {
  it('are all met by a run at the bounds, and each one is missed past its bound', () => {
    expect(allMet(run())).toBe(true);
    expect(result(run({ closed: loop(0.94, 0.92) }), 'closed loop req/s')).toBe(false);
    expect(result(run({ closed: loop(0.96, 0.89) }), 'CPU per request, closed')).toBe(false);
    expect(result(run({ open: loop(1, 0.84) }), 'CPU per request, open')).toBe(false);
    expect(result(run({ workerRss: { service: 100, bare: 90 } }), 'worker RSS')).toBe(false);
    const slow = { subscribers: 10_000, service: stream({ fanoutP99Ms: 250 }), bare: stream() };
    expect(result(run({ largest: slow }), 'stream fan-out p99')).toBe(false);
    const costly = { subscribers: 10_000, service: stream({ cpuUsPerEvent: 12.5 }), bare: stream() };
    expect(result(run({ largest: costly }), 'stream CPU')).toBe(false);
    const fat = { subscribers: 10_000, service: stream({ bytesPerSubscriber: 16_000 }), bare: stream() };
    expect(result(run({ largest: fat }), 'stream memory')).toBe(false);
    expect(result(run({ rest: { with: 0.9, without: 0.96 } }), 'REST req/s ratio')).toBe(false);
    expect(allMet(run({ rest: { with: 0.9, without: 0.96 } }))).toBe(false);
  });

  it('never meets a fan-out target with a quantile past the last bucket (a floor), even at a ratio of 1', () => {
    const floor = stream({ fanoutP99Ms: 1000, fanoutMaxMs: '> 1000' });
    const targets = run({ largest: { subscribers: 10_000, service: floor, bare: floor } });
    expect(result(targets, 'stream fan-out p99')).toBe(false);
  });

  it('holds a ratio to its bound on the right side', () => {
    const faster = { service: 1, bare: 2, unit: 'ms' };
    expect(ratioTarget('x', faster, { ratio: 'service/bare', atMost: 1.2 }).met).toBe(true);
    expect(ratioTarget('x', faster, { ratio: 'bare/service', atMost: 1.2 }).met).toBe(false);
    expect(
      ratioTarget('x', { service: NaN, bare: 1, unit: '' }, { ratio: 'service/bare', atMost: 2 }).met,
    ).toBe(false);
  });
});

describe('the wire check of the bare baseline', () => {
  const head = (lines: string[]) => ['HTTP/1.1 200 OK', ...lines].join('\r\n');
  const service = head(['Content-Type: a', 'Content-Length: 1423', 'ETag: W/"abc-ok"', 'Age: 3', 'Date: x']);
  it('ignores the values that move with the price and the time', () => {
    const bare = head(['Content-Type: a', 'Content-Length: 1437', 'ETag: W/"xyz-ok"', 'Age: 12', 'Date: y']);
    expect(headDifference(service, bare)).toBeUndefined();
    const lifetime = (seconds: number) =>
      head([`Cache-Control: public, max-age=${seconds}, must-revalidate`]);
    expect(headDifference(lifetime(2), lifetime(10))).toBeUndefined();
    expect(headDifference(lifetime(2), lifetime(2).replace('public', 'private'))).toBeDefined();
  });
  it('finds a missing header, a changed value, another order, an ETag of another length', () => {
    expect(
      headDifference(service, head(['Content-Length: 1', 'ETag: W/"abc-ok"', 'Age: 3', 'Date: x'])),
    ).toBeDefined();
    expect(headDifference(service, service.replace('Content-Type: a', 'Content-Type: b'))).toBeDefined();
    expect(headDifference(service, service.replace('ETag: W/"abc-ok"', 'ETag: W/"abcd-ok"'))).toBeDefined();
    const reordered = head([
      'Content-Length: 1423',
      'Content-Type: a',
      'ETag: W/"abc-ok"',
      'Age: 3',
      'Date: x',
    ]);
    expect(headDifference(service, reordered)).toBeDefined();
  });
});

describe('the bare fan-out in the service histogram buckets', () => {
  it('interpolates raw timings as histogram_quantile does the service buckets', () => {
    const bounds = [0.01, 0.05, 0.1, Infinity];
    const cumulative = bucketize([0.02, 0.03, 0.04, 0.2], bounds);
    expect([...cumulative.values()]).toEqual([0, 3, 3, 4]);
    expect(quantile(0.5, cumulative)).toBeCloseTo(0.01 + (0.04 * 2) / 3);
    expect(quantile(0.99, cumulative)).toBe(0.1); // past the last finite bound: that bound
  });
});
