/**
 * The short form of the chaos suite, in `make test`: the real clustered service (two replicas sharing a
 * real Redis, from dist/), the mock exchange and steady load, with a representative subset of the faults
 * (Redis killed, a worker SIGKILLed, garbage sources, every source failing) on shortened timings. The full
 * form is `make test-chaos` (service/test/chaos/run.ts).
 *
 * The first tests show that each target can fail: evaluate() is given rows that break it.
 */
import { describe, expect, it } from '@jest/globals';
import { bandOf, PriceTimeline } from './band';
import { FAULTS } from './faults';
import { historyGaps } from './history-outage';
import { Window } from './load';
import { SHORT } from './profiles';
import { formatTable } from './result-table';
import { evaluate, type Row } from './row-targets';
import { runSuite } from './suite';

const limits = { freshnessMs: 1000, maxStalenessMs: 3000 };
const fault = (id: string) => FAULTS.find((f) => f.id === id) as Row['fault'];
const now = Date.now();
const OK_BODY = (price: string, ageMs = 100, status = 'ok', ts = now) =>
  `{"pair":"ETH/USDT","price":"${price}","bid":"1","ask":"2","confidence":"1","method":"median_of_mid","timestamp":"${new Date(ts).toISOString()}","ageMs":${ageMs},"status":"${status}","stale":false,"quorum":{}}`;

function row(id: string, fill: (w: Window) => void, recovered = true): Row {
  const recoveredAfterMs = recovered ? 10 : undefined;
  const timeline = new PriceTimeline(1000, 1000);
  timeline.pin('3500.00', now - 10_000);
  const window = new Window(id, timeline.judge, limits.freshnessMs, limits.maxStalenessMs);
  fill(window);
  const partial = {
    fault: fault(id),
    window,
    callsPerInterval: [],
    alerts: undefined,
    recoveredAfterMs,
    notes: [],
  };
  return { ...partial, failures: evaluate(partial, limits) };
}

describe('chaos targets can fail', () => {
  it('the true band is the span of the honest mids', () => {
    expect(bandOf('3500.00')).toEqual({ low: 3498.95, high: 3501.05 });
  });

  it('an absorbed fault fails on a 5xx, a connection error or a price outside the band', () => {
    expect(row('garbage', (w) => w.recordResponse(200, OK_BODY('3500'), false, 'a')).failures).toEqual([]);
    expect(row('garbage', (w) => w.recordResponse(500, '{}', false, 'a')).failures).toEqual([
      '1 failed request(s)',
    ]);
    expect(row('garbage', (w) => w.recordError('ECONNRESET')).failures).toEqual(['1 failed request(s)']);
    expect(row('garbage', (w) => w.recordResponse(200, OK_BODY('3510'), false, 'a')).failures).toEqual([
      '1 price(s) outside the true band',
    ]);
    // In the band, but sampled when another mid was pinned.
    expect(
      row('garbage', (w) => w.recordResponse(200, OK_BODY('3500', 100, 'ok', now - 60_000), false, 'a'))
        .failures,
    ).toEqual(['1 price(s) outside the true band']);
    expect(
      row('garbage', (w) => w.recordResponse(200, OK_BODY('3500', 1500, 'ok'), false, 'a')).failures,
    ).toEqual(['1 answer(s) older than CACHE_TTL not flagged stale']);
    expect(row('garbage', () => undefined, false).failures).toEqual([
      'did not recover (fresh prices) within the timeout',
    ]);
  });

  it('an outage fails without stale answers, without a 503 with Retry-After, or on any other status', () => {
    const good = (w: Window) => {
      w.recordResponse(200, OK_BODY('3500', 2000, 'stale'), false, 'a');
      w.recordResponse(503, '{}', true, 'a');
    };
    expect(row('total-outage', good).failures).toEqual([]);
    expect(row('total-outage', (w) => w.recordResponse(503, '{}', true, 'a')).failures).toEqual([
      'never served the last price flagged stale',
    ]);
    expect(
      row('total-outage', (w) => {
        good(w);
        w.recordResponse(503, '{}', false, 'a');
        w.recordResponse(500, '{}', false, 'a');
        w.recordResponse(200, OK_BODY('3500', 3500, 'stale'), false, 'a');
      }).failures,
    ).toEqual([
      '1 200(s) older than MAX_STALENESS',
      '1 answer(s) with status 500',
      '1 503(s) without Retry-After',
    ]);
    expect(
      row('total-outage', (w) => w.recordResponse(200, OK_BODY('3500', 2000, 'stale'), false, 'a')).failures,
    ).toEqual(['never answered 503 past MAX_STALENESS']);
  });
});

describe('the history outage case can fail', () => {
  const second = (i: number, points: number, more: { gap?: boolean; final?: boolean } = {}) => ({
    start: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    points,
    gap: more.gap ?? false,
    final: more.final ?? true,
  });

  it('passes whole seconds, and one empty second in a row at 1 s rounds', () => {
    expect(historyGaps([second(0, 1), second(1, 0), second(2, 1)], 1000)).toEqual([]);
  });

  it('fails on a gap, two empty seconds in a row, an empty second at faster rounds, or a candle not final', () => {
    expect(historyGaps([second(0, 1), second(1, 0, { gap: true }), second(2, 1)], 1000)).toEqual([
      'no price in effect in 1 second(s): 2026-01-01T00:00:01.000Z',
    ]);
    expect(historyGaps([second(0, 1), second(1, 0), second(2, 0), second(3, 1)], 1000)).toEqual([
      '2 second(s) in a row without a point from 2026-01-01T00:00:01.000Z (rounds lost in the outage)',
    ]);
    expect(historyGaps([second(0, 4), second(1, 0), second(2, 4)], 250)).toEqual([
      '1 second(s) in a row without a point from 2026-01-01T00:00:01.000Z (rounds lost in the outage)',
    ]);
    expect(historyGaps([second(0, 1), second(1, 1, { final: false })], 1000)).toEqual([
      '1 candle(s) not final yet (held points not all written)',
    ]);
  });
});

describe('chaos suite, short form', () => {
  it('Redis killed (twice, the second time reading the history back: no gap), a worker SIGKILLed, garbage sources: 0 failed, 0 wrong; every source down: stale, then 503 with Retry-After, then recovery', async () => {
    const result = await runSuite(SHORT);
    const table = formatTable(result);
    process.stdout.write(`\n${table}\n`);
    expect(result.rows.map((r) => r.fault.id)).toEqual(SHORT.faults);
    for (const r of result.rows) {
      expect({ fault: r.fault.id, failures: r.failures }).toEqual({ fault: r.fault.id, failures: [] });
      // Load actually ran through every fault.
      expect(r.window.sent).toBeGreaterThan(100);
    }
  }, 180_000);
});
