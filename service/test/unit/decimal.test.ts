import { Big, isDecimalString, isPositiveDecimalString, toDecimalString } from '../../src/domain/decimal';

describe('isDecimalString', () => {
  test.each([
    '0',
    '3521.43',
    '-3521.43',
    '0.000000000000000001',
    '123456789012345678.12',
    '-0',
    '1.0000000000000001',
  ])('When the value is the plain decimal %p, then it is accepted', (value) => {
    expect(isDecimalString(value)).toBe(true);
  });

  test.each([
    '',
    '1e3',
    '1E3',
    '+1',
    ' 1',
    '1 ',
    '01',
    '1.',
    '.5',
    '0x10',
    '1,5',
    'NaN',
    'Infinity',
    '--1',
    '1.2.3',
  ])('When the value is %p, then it is rejected', (value) => {
    expect(isDecimalString(value)).toBe(false);
  });

  test.each([3521.43, 1, null, undefined, {}, ['1']])(
    'When the value is the non-string %p, then it is rejected',
    (value) => {
      expect(isDecimalString(value)).toBe(false);
    },
  );

  test('When the value is 64 characters long, then it is accepted, and at 65 it is rejected', () => {
    const sixtyFour = '1.' + '0'.repeat(62);
    expect(sixtyFour).toHaveLength(64);
    expect(isDecimalString(sixtyFour)).toBe(true);
    expect(isDecimalString(sixtyFour + '0')).toBe(false);
  });
});

describe('isPositiveDecimalString', () => {
  test.each(['3521.43', '0.000000000000000001', '1'])('When the value is %p, then it is a price', (value) => {
    expect(isPositiveDecimalString(value)).toBe(true);
  });

  test.each(['0', '0.0', '-0', '-1', '-0.000000000000000001', '1e3', 'abc'])(
    'When the value is %p, then it is not a price',
    (value) => {
      expect(isPositiveDecimalString(value)).toBe(false);
    },
  );

  test('When the value is a number, then it is not a price string', () => {
    expect(isPositiveDecimalString(3521.43)).toBe(false);
  });
});

describe('toDecimalString and the Big settings', () => {
  test('When a value has trailing fractional zeros, then they are dropped', () => {
    expect(toDecimalString(new Big('3521.4300'))).toBe('3521.43');
    expect(toDecimalString(new Big('3521.000'))).toBe('3521');
  });

  test('When a value is very small or very large, then it is printed without exponent notation', () => {
    expect(toDecimalString(new Big('1e-30'))).toBe('0.000000000000000000000000000001');
    expect(toDecimalString(new Big('1e40'))).toBe('1' + '0'.repeat(40));
    expect(new Big('0.000000000000000001').toString()).toBe('0.000000000000000001');
  });

  test('When a division does not terminate, then it is cut at 18 decimal places', () => {
    expect(toDecimalString(new Big(1).div(3))).toBe('0.333333333333333333');
    expect(toDecimalString(new Big(2).div(3))).toBe('0.666666666666666667');
  });

  test('When a division result is halfway at the 19th place, then it rounds to even', () => {
    expect(toDecimalString(new Big('0.000000000000000005').div(2))).toBe('0.000000000000000002');
    expect(toDecimalString(new Big('0.000000000000000007').div(2))).toBe('0.000000000000000004');
  });

  test('When decimals are added, then there is no binary float error (0.1 + 0.2 = 0.3)', () => {
    expect(toDecimalString(new Big('0.1').plus('0.2'))).toBe('0.3');
  });
});
