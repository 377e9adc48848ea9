import { divRound, formatFixed, formatTrimmed, ONE, parseDecimal, roundTo } from '../src/decimal';
import { PriceWalk, START_MIDS } from '../src/price-walk';
import { EXCHANGES, expectedQuote, parsePairSymbol, QUOTE_PROFILES, quoteFor } from '../src/quotes';

describe('scaled decimals', () => {
  test('When decimal strings are parsed, then they become exact 10^-8 units', () => {
    expect(parseDecimal('3500')).toBe(3_500n * ONE);
    expect(parseDecimal('3500.01')).toBe(350_001_000_000n);
    expect(parseDecimal('0.00000001')).toBe(1n);
  });

  test.each(['', '-1', '1e3', '1.', '.5', '1.123456789', ' 1', '0x10', '1,5'])(
    'When "%s" is parsed, then it is refused',
    (text) => {
      expect(parseDecimal(text)).toBeUndefined();
    },
  );

  test('When values are rounded and formatted, then halves go away from zero and decimals are fixed', () => {
    expect(divRound(5n, 2n)).toBe(3n);
    expect(divRound(-5n, 2n)).toBe(-3n);
    expect(roundTo(350_000_500_000n, 2)).toBe(350_001_000_000n);
    expect(formatFixed(350_001_000_000n, 8)).toBe('3500.01000000');
    expect(formatFixed(350_001_000_000n, 5)).toBe('3500.01000');
    expect(formatFixed(350_001_000_000n, 2)).toBe('3500.01');
    expect(formatFixed(1n, 2)).toBe('0.00');
    expect(formatFixed(-150_000_000n, 2)).toBe('-1.50');
    expect(formatTrimmed(350_000_000_000n)).toBe('3500.00');
    expect(formatTrimmed(350_012_500_000n)).toBe('3500.125');
  });
});

describe('quotes', () => {
  test('When any reference mid is used, then every exchange quotes whole cents with bid < ask around its own mid', () => {
    for (const mid of ['3500.00', '3517.12345678', '95000.00', '10.00']) {
      for (const exchange of EXCHANGES) {
        const quote = quoteFor(exchange, parseDecimal(mid) ?? 0n);
        expect(quote.bid).toBeLessThan(quote.ask);
        expect(quote.bid + quote.ask).toBe(2n * quote.last);
        expect(quote.bid % (ONE / 100n)).toBe(0n);
        expect(quote.bid).toBeGreaterThan(0n);
      }
    }
  });

  test('When the exchanges are compared, then their offsets differ and stay within a few bps', () => {
    const offsets = EXCHANGES.map((exchange) => QUOTE_PROFILES[exchange].offsetBps);

    expect(new Set(offsets).size).toBe(EXCHANGES.length);
    expect(offsets.every((offset) => Math.abs(offset) <= 5)).toBe(true);
    expect(offsets.reduce((sum, offset) => sum + offset, 0)).toBe(0);
  });

  test('When expectedQuote is asked for 3500.00, then it gives the bid and ask each exchange will serve', () => {
    expect(expectedQuote('binance', '3500.00')).toEqual({
      bid: '3500.32000000',
      ask: '3500.38000000',
      mid: '3500.35000000',
    });
    expect(expectedQuote('kraken', '3500.00')).toEqual({
      bid: '3499.27000',
      ask: '3499.33000',
      mid: '3499.30000',
    });
    expect(expectedQuote('okx', '3500.00')).toEqual({ bid: '3499.64', ask: '3499.66', mid: '3499.65' });
    expect(expectedQuote('okx', '3500.00', '1.10')).toEqual({
      bid: '3849.61',
      ask: '3849.63',
      mid: '3849.62',
    });
  });

  test('When expectedQuote gets a non-decimal, then it throws', () => {
    expect(() => expectedQuote('okx', '3500', 'x')).toThrow(/decimal strings/);
  });

  test.each([
    ['ETH/USDT', 'ETH/USDT'],
    ['eth-usdt', 'ETH/USDT'],
    ['BTC-USDT', 'BTC/USDT'],
    ['ETHUSDT', undefined],
    ['DOGE/USDT', undefined],
  ])('When the pair "%s" is parsed, then it is %s', (text, expected) => {
    expect(parsePairSymbol(text)).toBe(expected);
  });
});

describe('price walk', () => {
  function walkWith(randoms: () => number) {
    let now = 1_000_000;
    const walk = new PriceWalk(250, randoms, () => now);
    return { walk, advance: (ms: number) => (now += ms) };
  }

  test('When no tick has elapsed, then the mid is the starting one', () => {
    const { walk } = walkWith(() => 0.99);

    expect(walk.current('ETH/USDT')).toBe(START_MIDS['ETH/USDT']);
  });

  test('When one tick elapses with the largest draw, then the mid moves by exactly 1 bp', () => {
    const { walk, advance } = walkWith(() => 0.999_999);
    advance(250);

    expect(walk.current('ETH/USDT')).toBe(START_MIDS['ETH/USDT'] + START_MIDS['ETH/USDT'] / 10_000n);
  });

  test('When a long idle time elapses, then catching up moves the mid by at most 20 bps', () => {
    const { walk, advance } = walkWith(() => 0);
    advance(3_600_000);

    const mid = walk.current('ETH/USDT');
    const start = START_MIDS['ETH/USDT'];
    expect(mid).toBeLessThan(start);
    expect(start - mid).toBeLessThanOrEqual((start * 20n) / 10_000n);
  });

  test('When many random ticks elapse, then no step exceeds 0.5% of the previous mid', () => {
    const { walk, advance } = walkWith(Math.random);
    let previous = walk.current('BTC/USDT');
    for (let i = 0; i < 1_000; i += 1) {
      advance(250);
      const next = walk.current('BTC/USDT');
      const change = next > previous ? next - previous : previous - next;
      expect(change * 200n).toBeLessThanOrEqual(previous);
      previous = next;
    }
  });

  test('When a mid is pinned, then time does not move it; when resumed, missed ticks are not replayed', () => {
    const { walk, advance } = walkWith(() => 0);
    walk.pin('ETH/USDT', 4_000n * ONE, false);
    advance(10_000);

    expect(walk.current('ETH/USDT')).toBe(4_000n * ONE);
    walk.setWalking('ETH/USDT', true);
    expect(walk.current('ETH/USDT')).toBe(4_000n * ONE);
    advance(250);
    expect(walk.current('ETH/USDT')).toBeLessThan(4_000n * ONE);
  });

  test('When reset, then pins are dropped and the starting mids come back', () => {
    const { walk } = walkWith(() => 0.5);
    walk.pin('BTC/USDT', 10n * ONE, false);
    walk.reset();

    expect(walk.describe('BTC/USDT')).toEqual({
      pair: 'BTC/USDT',
      mid: START_MIDS['BTC/USDT'],
      walking: true,
    });
  });

  test('When tickMs is not a positive integer, then the walk refuses it', () => {
    expect(() => new PriceWalk(0)).toThrow(RangeError);
  });
});
