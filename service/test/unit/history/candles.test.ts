import {
  candleFigures,
  candlesFromPoints,
  fillPrevious,
  regroupCandles,
  twapOver,
  type Candle,
} from '../../../src/domain/history/candles';
import { CANDLE_INTERVALS } from '../../../src/domain/history/intervals';
import { pointInEffect, type HistoryPoint } from '../../../src/domain/history/price-point';

const rules = { maxInEffectMs: 60_000 };

/**
 * A hand-made series over three minutes [0, 180 s). In effect:
 *   [0, 10 s)      100.10 ok        (carried in from t = -5 s)
 *   [10 s, 25 s)   100.25 ok
 *   [25 s, 40 s)   100.05 degraded
 *   [40 s, 50 s)   100.40 stale
 *   [50 s, 70 s)   nothing (the service answered 503 from 50 s)
 *   [70 s, 100 s)  101.00 ok
 *   [100 s, 160 s) 100.5 ok          (no point after it: in effect for maxInEffectMs = 60 s)
 *   [160 s, 180 s) nothing
 */
const SERIES: HistoryPoint[] = [
  { t: -5_000, price: '100.10', status: 'ok' },
  { t: 10_000, price: '100.25', status: 'ok' },
  { t: 25_000, price: '100.05', status: 'degraded' },
  { t: 40_000, price: '100.40', status: 'stale' },
  { t: 50_000, status: 'unavailable' },
  { t: 70_000, price: '101.00', status: 'ok' },
  { t: 100_000, price: '100.5', status: 'ok' },
];

const view = (c: Candle) => ({
  open: c.open,
  high: c.high,
  low: c.low,
  close: c.close,
  ...candleFigures(c),
  coveredMs: c.coveredMs,
  degradedMs: c.degradedMs,
  staleMs: c.staleMs,
  points: c.points,
});

describe('price in effect', () => {
  test.each([
    [-5_000, '100.10'],
    [9_999, '100.10'],
    [10_000, '100.25'],
    [49_999, '100.40'],
    [50_000, undefined], // the explicit end
    [69_999, undefined],
    [159_999, '100.5'],
    [160_000, undefined], // 60 s without a successor: nothing was published, so nothing is in effect
    [-5_001, undefined], // before the first point
  ])('When asked at %p, then the price in effect is %p', (t, price) => {
    const point = pointInEffect(SERIES, t, rules);
    expect(point === undefined ? undefined : 'price' in point ? point.price : 'gap').toBe(price);
  });
});

describe('candles from points, against the hand-computed series', () => {
  test('When 1m candles are computed, then OHLC, TWAP, coverage, degraded and stale time are exact', () => {
    const candles = candlesFromPoints(SERIES, 0, 180_000, 60_000, rules);
    expect(candles.map(view)).toEqual([
      {
        // Σ = 100.10×10000 + 100.25×15000 + 100.05×15000 + 100.40×10000
        //   = 1001000 + 1503750 + 1500750 + 1004000 = 5009500 over 50000 ms covered → 100.19
        open: '100.10',
        high: '100.40',
        low: '100.05',
        close: '100.40',
        gap: false,
        twap: '100.19',
        // fresh 10000 + 15000 + 15000 = 40000 of 60000 = 0.666… (18 places, half-even: …67)
        freshCoverage: '0.666666666666666667',
        coveredMs: 50_000,
        degradedMs: 15_000,
        staleMs: 10_000,
        points: 3, // 10 s, 25 s, 40 s; the end at 50 s is not a price
      },
      {
        // gap [60 s, 70 s); Σ = 101.00×30000 + 100.5×20000 = 3030000 + 2010000 = 5040000 / 50000 = 100.8
        open: '101.00',
        high: '101.00',
        low: '100.5',
        close: '100.5',
        gap: false,
        twap: '100.8',
        freshCoverage: '0.833333333333333333', // 50000 / 60000
        coveredMs: 50_000,
        degradedMs: 0,
        staleMs: 0,
        points: 2,
      },
      {
        // 100.5 carried in for 40000 ms, then nothing: Σ = 4020000 / 40000 = 100.5; no point inside
        open: '100.5',
        high: '100.5',
        low: '100.5',
        close: '100.5',
        gap: false,
        twap: '100.5',
        freshCoverage: '0.666666666666666667',
        coveredMs: 40_000,
        degradedMs: 0,
        staleMs: 0,
        points: 0,
      },
    ]);
  });

  test('When one 3m candle is computed, then its TWAP is the exact quotient rounded at the 18th place', () => {
    const [candle] = candlesFromPoints(SERIES, 0, 180_000, 180_000, rules);
    // Σ = 5009500 + 5040000 + 4020000 = 14069500 over 140000 ms:
    // 14069500 / 140000 = 100 + 69500 / 140000 = 100.4964285714285714285714… → …428571429 (18 places)
    expect(view(candle!)).toMatchObject({
      open: '100.10',
      high: '101.00',
      low: '100.05',
      close: '100.5',
      twap: '100.496428571428571429',
      freshCoverage: '0.722222222222222222', // (40000 + 50000 + 40000) / 180000 = 0.7222…
      points: 5,
    });
  });

  test('When an interval has no price in effect, then it is present and says so; fill=previous carries the close', () => {
    const candles = candlesFromPoints(SERIES, 120_000, 300_000, 60_000, rules);
    expect(candles.map((c) => candleFigures(c).gap)).toEqual([false, true, true]);
    expect(candles[1]).toMatchObject({ startMs: 180_000, endMs: 240_000, coveredMs: 0, points: 0 });
    expect(candles[1]!.open).toBeUndefined();
    const filled = fillPrevious(candles);
    expect(filled.map((c) => c.close)).toEqual(['100.5', '100.5', '100.5']);
    // filled, but still a gap: nothing was in effect
    expect(candleFigures(filled[2]!)).toMatchObject({ gap: true, freshCoverage: '0' });
    expect(fillPrevious(candlesFromPoints(SERIES, 180_000, 240_000, 60_000, rules), '99.9')[0]!.close).toBe(
      '99.9',
    );
  });
});

describe('TWAP over a window', () => {
  test('When prices are in effect for uneven times, then the TWAP is decimal to the last digit', () => {
    const points: HistoryPoint[] = [
      { t: 1_000, price: '0.1', status: 'ok' },
      { t: 1_001, price: '0.2', status: 'ok' },
    ];
    // (0.1×1 + 0.2×2) / 3 = 0.5 / 3 = 0.1666… → 0.166666666666666667 (a float gives 0.16666666666666666)
    const result = twapOver(points, 1_000, 1_003, rules);
    expect(result.twap).toBe('0.166666666666666667');
    expect(result.freshCoverage).toBe('1');
  });

  test('When the window is partly covered, then the TWAP is over the covered time and the coverage says how much', () => {
    // window [30 s, 90 s): 100.05 deg 10 s, 100.40 stale 10 s, nothing 20 s, 101.00 20 s
    // Σ = 1000500 + 1004000 + 2020000 = 4024500 over 40000 ms = 100.6125; fresh 30000 / 60000 = 0.5
    const result = twapOver(SERIES, 30_000, 90_000, rules);
    expect(result.twap).toBe('100.6125');
    expect(result.freshCoverage).toBe('0.5');
    expect(result.candle.staleMs).toBe(10_000);
  });
});

/** A deterministic walk: a point every 1–9 s with 2-decimal prices, some degraded, stale and unavailable. */
function walk(fromMs: number, toMs: number, seed = 7): HistoryPoint[] {
  let state = seed;
  // the high bits of the LCG: its low bits repeat with a short period
  const next = () => (state = (state * 1_103_515_245 + 12_345) % 2_147_483_648) >>> 8;
  const points: HistoryPoint[] = [];
  let cents = 350_000;
  for (let t = fromMs; t < toMs; t += 1_000 + (next() % 9) * 1_000 + (next() % 997)) {
    cents += (next() % 201) - 100;
    const roll = next() % 100;
    if (roll < 2) points.push({ t, status: 'unavailable' });
    else {
      const status = roll < 10 ? 'stale' : roll < 25 ? 'degraded' : 'ok';
      points.push({ t, price: (cents / 100).toFixed(2), status });
    }
    if (roll === 99) t += 200_000; // a silence longer than maxInEffectMs
  }
  return points;
}

describe('coarse candles from finer candles', () => {
  const day = 86_400_000;
  const points = walk(-30_000, day + 30_000);

  test.each(['5m', '15m', '1h', '1d'] as const)(
    'When 1m candles are regrouped into %s, then they equal the %s candles computed from the points',
    (interval) => {
      const minutes = candlesFromPoints(points, 0, day, CANDLE_INTERVALS['1m'], rules);
      const length = CANDLE_INTERVALS[interval];
      expect(regroupCandles(minutes, 0, day, length)).toEqual(
        candlesFromPoints(points, 0, day, length, rules),
      );
    },
  );

  test('When 1s candles are regrouped into 1m, then they equal the 1m candles from the points', () => {
    const hour = 3_600_000;
    const seconds = candlesFromPoints(points, 0, hour, 1_000, rules);
    expect(regroupCandles(seconds, 0, hour, 60_000)).toEqual(
      candlesFromPoints(points, 0, hour, 60_000, rules),
    );
  });

  test('When minute candles are missing (gaps not stored), then the regrouped candle is the same', () => {
    const minutes = candlesFromPoints(points, 0, day, 60_000, rules);
    const stored = minutes.filter((c) => c.coveredMs > 0 || c.points > 0);
    expect(stored.length).toBeLessThan(minutes.length); // the walk has silences
    expect(regroupCandles(stored, 0, day, 3_600_000)).toEqual(regroupCandles(minutes, 0, day, 3_600_000));
  });
});
