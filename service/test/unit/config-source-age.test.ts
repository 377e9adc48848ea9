import { statusAt, type PriceSnapshot } from '../../src/application/price-snapshot';
import { aggregate, type SourceOutcome } from '../../src/domain/aggregation';
import { ConfigError, loadConfig, type Config } from '../../src/config';
import { problemsOf } from './config-problems';

/**
 * MAX_SOURCE_AGE_MS decides how old a quote may be and still be used. A price's timestamp is its oldest
 * used quote's, and the price is `stale` once older than CACHE_TTL: these tests aggregate real quotes with
 * the configured rules and ask the status function what a reader would see while the next rounds run.
 */
const NOW = 1_700_000_000_000;

function quote(exchange: string, ageMs: number): SourceOutcome {
  return {
    kind: 'quote',
    epoch: 1,
    quote: {
      exchange,
      pair: 'eth-usdt',
      bid: '3000.0',
      ask: '3000.2',
      timestampMs: NOW - ageMs,
      timestampSource: 'exchange',
      receivedAtMs: NOW - ageMs,
      latencyMs: 40,
    },
  };
}

/**
 * Three sources, one of which is slow: its last quote is `slowAgeMs` old (a fetch still in flight keeps the
 * previous result in the round). The status of the published price `afterMs` after the round.
 */
function statusAfter(config: Config, slowAgeMs: number, afterMs: number): string {
  const outcomes = new Map([
    ['binance', quote('binance', 100)],
    ['okx', quote('okx', 150)],
    ['kraken', quote('kraken', slowAgeMs)],
  ]);
  const { price, used } = aggregate(outcomes, NOW, { ...config.price, minQuorum: 3 });
  if (price === undefined) return 'no price: the slow source was left out and the quorum lost';
  const snapshot: PriceSnapshot = {
    v: 1,
    pair: 'eth-usdt',
    symbol: 'ETH/USDT',
    price,
    updatedAtMs: NOW,
    quorum: { used, configured: 3, min: 3 },
    sources: [],
  };
  return statusAt(snapshot, NOW + afterMs, config.price);
}

describe('MAX_SOURCE_AGE_MS: the default', () => {
  test('When it is unset, then it is CACHE_TTL minus two refresh intervals: 3000 ms with the defaults', () => {
    expect(loadConfig({}).price.maxSourceAgeMs).toBe(3000);
    expect(loadConfig({ CACHE_TTL: '10', REFRESH_INTERVAL_MS: '2000' }).price.maxSourceAgeMs).toBe(6000);
  });

  test('When CACHE_TTL is under four refresh intervals, then the default is half of CACHE_TTL, never less', () => {
    // 2000 - 2 * 1500 would be negative: no quote could ever be used.
    expect(loadConfig({ CACHE_TTL: '2', REFRESH_INTERVAL_MS: '1500' }).price.maxSourceAgeMs).toBe(1000);
    // The chaos suite's short profile: 1000 - 2 * 250 = 500, which is also the floor.
    expect(
      loadConfig({ CACHE_TTL: '1', REFRESH_INTERVAL_MS: '250', MAX_STALENESS: '3' }).price.maxSourceAgeMs,
    ).toBe(500);
  });

  test('When a slow source is used at the oldest age the default allows, then the price is still fresh two refresh rounds later', () => {
    const config = loadConfig({});
    const { maxSourceAgeMs, refreshIntervalMs } = config.price;
    expect(statusAfter(config, maxSourceAgeMs, 2 * refreshIntervalMs)).toBe('ok');
    // Past that, the next rounds must have replaced it: this is where the margin ends.
    expect(statusAfter(config, maxSourceAgeMs, 2 * refreshIntervalMs + 1)).toBe('stale');
    // One millisecond older and the source is left out (here the quorum of three is lost with it).
    expect(statusAfter(config, maxSourceAgeMs + 1, 0)).toMatch(/^no price/);
  });

  test('When the old default (MAX_SOURCE_AGE_MS = CACHE_TTL) is given, then such a price is stale right after its round (what the chaos suite saw)', () => {
    const config = loadConfig({ MAX_SOURCE_AGE_MS: '5000' });
    expect(statusAfter(config, 5000, 0)).toBe('ok');
    expect(statusAfter(config, 5000, 1)).toBe('stale');
  });
});

describe('MAX_SOURCE_AGE_MS: given explicitly', () => {
  test('When it is given, then it is used as given, whatever CACHE_TTL and the interval are', () => {
    expect(loadConfig({ MAX_SOURCE_AGE_MS: '4500' }).price.maxSourceAgeMs).toBe(4500);
    expect(loadConfig({ MAX_SOURCE_AGE_MS: '100' }).price.maxSourceAgeMs).toBe(100);
  });

  test('When it exceeds CACHE_TTL, then it is reported; equal is accepted (a deliberate trade of stale answers for quorum)', () => {
    expect(() => loadConfig({ CACHE_TTL: '5', MAX_SOURCE_AGE_MS: '5000' })).not.toThrow();
    expect(() => loadConfig({ CACHE_TTL: '5', MAX_SOURCE_AGE_MS: '5001' })).toThrow(
      new ConfigError(['MAX_SOURCE_AGE_MS: 5001 must not exceed CACHE_TTL (5000 ms)']),
    );
  });

  test('When it is not a whole number or out of range, then it is reported like any other setting', () => {
    expect(problemsOf({ MAX_SOURCE_AGE_MS: '3s' })).toEqual(['MAX_SOURCE_AGE_MS: must be a whole number']);
    expect(problemsOf({ MAX_SOURCE_AGE_MS: '99' })).toEqual([
      'MAX_SOURCE_AGE_MS: Too small: expected number to be >=100',
    ]);
  });

  test('When CACHE_TTL itself is bad, then only CACHE_TTL is reported, not the source age', () => {
    expect(problemsOf({ CACHE_TTL: 'x', MAX_SOURCE_AGE_MS: '9000' })).toEqual([
      'CACHE_TTL: must be a whole number',
    ]);
  });
});
