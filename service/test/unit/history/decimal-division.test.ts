import fc from 'fast-check';
import { Big, divideByInteger, isPositiveDecimalString, toDecimalString } from '../../../src/domain/decimal';

// The candle figures' division in BigInt must give big.js's answer (18 places, half-even) to the digit.
const decimal = fc
  .tuple(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.integer({ min: 0, max: 20 }))
  .map(([digits, places]) => toDecimalString(new Big(digits.toString()).div(new Big(10).pow(places))));

describe('divideByInteger', () => {
  test('When any decimal is divided by any count, then the result is big.js’s to the last digit', () => {
    fc.assert(
      fc.property(decimal, fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (dividend, divisor) => {
        expect(divideByInteger(dividend, divisor)).toBe(toDecimalString(new Big(dividend).div(divisor)));
      }),
      { numRuns: 5_000, seed: 16 },
    );
  });

  test.each([
    ['6018000', 60_000, '100.3'],
    ['9005000', 90_000, '100.055555555555555556'], // …5555 5 rounds up
    ['1', 3, '0.333333333333333333'],
    ['2', 3, '0.666666666666666667'],
    ['0', 7, '0'],
    ['5', 4, '1.25'],
    ['60000', 60_000, '1'], // all of a minute covered
    ['60000', 120_000, '0.5'],
    ['0.0000000000000000005', 1, '0'], // a half at the 19th place, even below it: down
    ['0.0000000000000000015', 1, '0.000000000000000002'], // odd below it: up
  ])('When %s / %d, then %s', (dividend, divisor, expected) => {
    expect(divideByInteger(dividend, divisor)).toBe(expected);
  });
});

describe('isPositiveDecimalString', () => {
  test('When any plain decimal is checked, then it is positive exactly when big.js says it is above 0', () => {
    const signed = fc.tuple(fc.boolean(), decimal).map(([minus, d]) => (minus ? `-${d}` : d));
    fc.assert(
      fc.property(signed, (value) => {
        expect(isPositiveDecimalString(value)).toBe(new Big(value).gt(0));
      }),
      { numRuns: 5_000, seed: 16 },
    );
  });
});
