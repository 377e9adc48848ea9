import Big from 'big.js';

// Prices never pass through a JS float: every value is a decimal string parsed by big.js.
// DP bounds division results (mid = (bid+ask)/2, median of two); 18 places is beyond any exchange tick.
Big.DP = 18;
Big.RM = Big.roundHalfEven;
// Print plain decimals, never exponent notation, for the magnitudes prices take.
Big.NE = -19;
Big.PE = 40;

export { Big };
export type Decimal = Big;

/** Plain decimal: optional leading minus, digits, optional fraction. No exponent, no spaces, no "+", no hex. */
const DECIMAL = /^-?(0|[1-9]\d*)(\.\d+)?$/;

export function isDecimalString(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 64 && DECIMAL.test(value);
}

/** A positive decimal string such as a price ("3521.43"); zero and negatives are not prices. */
export function isPositiveDecimalString(value: unknown): value is string {
  return isDecimalString(value) && !value.startsWith('-') && new Big(value).gt(0);
}

/** Canonical string: no trailing fractional zeros ("3521.4300" -> "3521.43"). */
export function toDecimalString(value: Big): string {
  return value.toFixed();
}
