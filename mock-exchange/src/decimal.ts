/**
 * Prices are integers scaled by 10^8 (the finest precision any mocked exchange prints, Binance's), so every
 * value the mock emits is exact: the service's median must be computable to the cent by a test.
 */
export const SCALE_DIGITS = 8;
export const ONE = 100_000_000n;

const DECIMAL_TEXT = /^(\d{1,12})(?:\.(\d{1,8}))?$/;

/** Parses a non-negative decimal string with at most 8 decimals ("3500.00") into scaled units. */
export function parseDecimal(text: string): bigint | undefined {
  const match = DECIMAL_TEXT.exec(text);
  if (!match) return undefined;
  const whole = match[1] ?? '0';
  const fraction = (match[2] ?? '').padEnd(SCALE_DIGITS, '0');
  return BigInt(whole) * ONE + BigInt(fraction);
}

/** Integer division rounding half away from zero; the divisor must be positive. */
export function divRound(numerator: bigint, divisor: bigint): bigint {
  const half = divisor / 2n;
  return numerator >= 0n ? (numerator + half) / divisor : -((-numerator + half) / divisor);
}

function unitOf(decimals: number): bigint {
  return 10n ** BigInt(SCALE_DIGITS - decimals);
}

/** Rounds a scaled value to `decimals` places, keeping the 10^8 scale. */
export function roundTo(value: bigint, decimals: number): bigint {
  const unit = unitOf(decimals);
  return divRound(value, unit) * unit;
}

/** Formats a scaled value with exactly `decimals` places, as exchanges do ("3521.40000000"). */
export function formatFixed(value: bigint, decimals: number): string {
  const units = divRound(value, unitOf(decimals));
  const sign = units < 0n ? '-' : '';
  const digits = (units < 0n ? -units : units).toString().padStart(decimals + 1, '0');
  if (decimals === 0) return sign + digits;
  return `${sign}${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
}

/** Formats with at least two decimals and no further trailing zeros ("3500.00", "3500.125"). */
export function formatTrimmed(value: bigint): string {
  const full = formatFixed(value, SCALE_DIGITS);
  return full.replace(/(\.\d{2}\d*?)0+$/, '$1');
}
