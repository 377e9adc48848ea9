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

const NONZERO_DIGIT = /[1-9]/;

/**
 * A positive decimal string such as a price ("3521.43"); zero and negatives are not prices. A plain decimal
 * without a minus is positive exactly when one of its digits is not 0: no number is built (every stored
 * history value is checked with this when it is read back, thousands per candles request).
 */
export function isPositiveDecimalString(value: unknown): value is string {
  return isDecimalString(value) && value.charCodeAt(0) !== 45 /* - */ && NONZERO_DIGIT.test(value);
}

/** Canonical string: no trailing fractional zeros ("3521.4300" -> "3521.43"). */
export function toDecimalString(value: Big): string {
  return value.toFixed();
}

/** The scale of every division result (Big.DP): 18 places. */
const DIVISION_SCALE = 18;
const SCALE_FACTOR = 10n ** BigInt(DIVISION_SCALE);
/** 10^places for the fraction lengths decimals have here (a price's or a sum's), computed once. */
const POWERS_OF_TEN = Array.from({ length: 40 }, (_, places) => 10n ** BigInt(places));

/**
 * `dividend / divisor` to 18 places, half-even, as the canonical string: the same result as
 * `toDecimalString(new Big(dividend).div(divisor))`, in integer arithmetic (BigInt), several times faster.
 * For the per-candle figures (TWAP = Σ price × ms / ms, coverage = ms / ms), over a thousand a response.
 * `dividend` a non-negative plain decimal string, `divisor` a positive safe integer.
 */
export function divideByInteger(dividend: string, divisor: number): string {
  // The common candle figures, exactly: nothing covered, or all of it (coverage 0 and 1).
  if (dividend === '0') return '0';
  if (dividend === String(divisor)) return '1';
  const dot = dividend.indexOf('.');
  const digits = dot < 0 ? dividend : dividend.slice(0, dot) + dividend.slice(dot + 1);
  const places = dot < 0 ? 0 : dividend.length - dot - 1;
  const numerator = BigInt(digits) * SCALE_FACTOR;
  const denominator = (POWERS_OF_TEN[places] ?? 10n ** BigInt(places)) * BigInt(divisor);
  let quotient = numerator / denominator;
  const twice = (numerator % denominator) * 2n;
  if (twice > denominator || (twice === denominator && (quotient & 1n) === 1n)) quotient += 1n;
  const text = quotient.toString().padStart(DIVISION_SCALE + 1, '0');
  const fraction = text.slice(-DIVISION_SCALE).replace(/0+$/, '');
  const whole = text.slice(0, -DIVISION_SCALE);
  return fraction === '' ? whole : `${whole}.${fraction}`;
}
