import {
  candleCount,
  finestIntervalFor,
  isCandleInterval,
  MAX_CANDLES_PER_RANGE,
} from '../../../src/domain/history/intervals';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('candle intervals and the finest one a range allows', () => {
  test.each([
    [0, 25 * 60_000, '1s'], // 1500 one-second candles: exactly the bound
    [0, 25 * 60_000 + 1, '1m'],
    [0, DAY, '1m'], // 1440
    [0, 7 * DAY, '15m'], // 672 (5m would be 2016)
    [0, 30 * DAY, '1h'], // 720
    [0, 365 * DAY, '1d'],
    [0, 5 * 365 * DAY, undefined], // 1825 days: past the bound even for 1d
  ])('When the range is [%p, %p), then the finest interval is %p', (from, to, interval) => {
    expect(finestIntervalFor(from, to)).toBe(interval);
  });

  test('When a range is not aligned, then its partial candles at both ends are counted', () => {
    expect(candleCount(59_999, 60_001, '1m')).toBe(2);
    expect(candleCount(0, 60_000, '1m')).toBe(1);
    expect(candleCount(10, 10, '1m')).toBe(0);
    expect(MAX_CANDLES_PER_RANGE).toBeGreaterThanOrEqual(1440); // 24 h of 1m fits in one range
  });

  test('When an interval name is checked, then only the supported ones pass', () => {
    expect(['1s', '1m', '5m', '15m', '1h', '1d'].every(isCandleInterval)).toBe(true);
    expect(['2m', '1w', 'toString', '', '1H'].some(isCandleInterval)).toBe(false);
  });
});
