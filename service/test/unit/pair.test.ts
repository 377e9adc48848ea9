import { parsePair } from '../../src/domain/pair';

describe('parsePair', () => {
  test('When the text is "ETH/USDT", then base, quote, symbol and slug are filled in', () => {
    expect(parsePair('ETH/USDT')).toStrictEqual({
      base: 'ETH',
      quote: 'USDT',
      symbol: 'ETH/USDT',
      slug: 'eth-usdt',
    });
  });

  test.each(['eth-usdt', 'ETH-USDT', 'eth/usdt', 'Eth/Usdt', '  ETH/USDT  '])(
    'When the text is %p, then it is the same pair as ETH/USDT',
    (text) => {
      expect(parsePair(text)).toStrictEqual({
        base: 'ETH',
        quote: 'USDT',
        symbol: 'ETH/USDT',
        slug: 'eth-usdt',
      });
    },
  );

  test('When a pair is parsed, then its slug is lower case and the result is frozen', () => {
    const pair = parsePair('BTC/USDC');
    expect(pair?.slug).toBe('btc-usdc');
    expect(Object.isFrozen(pair)).toBe(true);
  });

  test('When an asset has digits, then it is accepted (1INCH/USDT)', () => {
    expect(parsePair('1INCH/USDT')?.slug).toBe('1inch-usdt');
  });

  test.each([
    ['ETH', 'a single asset'],
    ['ETH/ETH', 'the same asset twice'],
    ['eth-eth', 'the same asset twice as a slug'],
    ['ETH/USDT/X', 'three parts'],
    ['ETH-USDT/X', 'three parts with mixed separators'],
    ['ETH/', 'an empty quote'],
    ['/USDT', 'an empty base'],
    ['', 'an empty string'],
    ['E/USDT', 'a one-letter asset'],
    ['ETH/ABCDEFGHIJK', 'an 11-character asset'],
    ['ETH_USDT', 'an underscore separator'],
    ['ETH USDT', 'a space separator'],
    ['ETH/US$T', 'a symbol character'],
  ])('When the text is %p (%s), then it is rejected', (text) => {
    expect(parsePair(text)).toBeUndefined();
  });

  test('When an asset has exactly 10 characters, then it is accepted', () => {
    expect(parsePair('ETH/ABCDEFGHIJ')?.symbol).toBe('ETH/ABCDEFGHIJ');
  });
});
