import { statusAt, type PriceSnapshot } from '../../src/application/price-snapshot';

const PRICE_AT = 1_750_000_000_000;
const RULES = { freshnessMs: 5000, maxStalenessMs: 60_000 };

function snapshot(
  quorum: { used: number; configured: number; min: number },
  withPrice = true,
): PriceSnapshot {
  return {
    v: 1,
    pair: 'eth-usdt',
    symbol: 'ETH/USDT',
    ...(withPrice
      ? {
          price: { price: '3500.015', bid: '3500', ask: '3500.03', confidence: '0.5', timestampMs: PRICE_AT },
        }
      : {}),
    updatedAtMs: PRICE_AT + 200,
    quorum,
    sources: [],
  };
}

const FULL = { used: 6, configured: 6, min: 3 };
const PARTIAL = { used: 4, configured: 6, min: 3 };
const BELOW = { used: 2, configured: 6, min: 3 };

describe('statusAt', () => {
  test('When every configured source was used and the price is fresh, then the status is ok', () => {
    expect(statusAt(snapshot(FULL), PRICE_AT + 1000, RULES)).toBe('ok');
  });

  test('When the age is exactly freshnessMs, then the price is still ok', () => {
    expect(statusAt(snapshot(FULL), PRICE_AT + 5000, RULES)).toBe('ok');
  });

  test('When the price timestamp is in the future (clock skew), then the status is ok', () => {
    expect(statusAt(snapshot(FULL), PRICE_AT - 2000, RULES)).toBe('ok');
  });

  test('When fewer than the configured sources but at least min were used, then the status is degraded', () => {
    expect(statusAt(snapshot(PARTIAL), PRICE_AT + 1000, RULES)).toBe('degraded');
    expect(statusAt(snapshot({ used: 3, configured: 6, min: 3 }), PRICE_AT + 1000, RULES)).toBe('degraded');
  });

  test('When the age is 1 ms past freshnessMs, then the status is stale', () => {
    expect(statusAt(snapshot(FULL), PRICE_AT + 5001, RULES)).toBe('stale');
  });

  test('When a degraded snapshot is older than freshnessMs, then stale wins', () => {
    expect(statusAt(snapshot(PARTIAL), PRICE_AT + 5001, RULES)).toBe('stale');
  });

  test('When the last round missed the quorum, then the kept price is stale even if young', () => {
    expect(statusAt(snapshot(BELOW), PRICE_AT + 10, RULES)).toBe('stale');
  });

  test('When the age is exactly maxStalenessMs, then the price is still served as stale', () => {
    expect(statusAt(snapshot(FULL), PRICE_AT + 60_000, RULES)).toBe('stale');
  });

  test('When the age is past maxStalenessMs, then the status is unavailable', () => {
    expect(statusAt(snapshot(FULL), PRICE_AT + 60_001, RULES)).toBe('unavailable');
    expect(statusAt(snapshot(BELOW), PRICE_AT + 60_001, RULES)).toBe('unavailable');
  });

  test('When no round has met the quorum yet (no price), then the status is unavailable', () => {
    expect(statusAt(snapshot({ used: 0, configured: 6, min: 3 }, false), PRICE_AT, RULES)).toBe(
      'unavailable',
    );
  });
});
