import { z } from 'zod';
import { Big, isPositiveDecimalString, toDecimalString } from '../../../domain/decimal';
import { UpstreamInvalidBodyError } from '../../../domain/errors';
import type { Ticker } from '../../../domain/quote';
import type { ExchangeName } from '../exchange-adapter';

/** A price as the exchanges send it: a plain positive decimal string. Numbers, "1e3", "", "0", "-1" fail. */
export const price = z
  .string()
  .refine(isPositiveDecimalString, { message: 'expected a positive decimal string' });

/** Epoch milliseconds sent as a JSON number (KuCoin data.time, Bybit time). */
export const epochMsNumber = z.int().positive();

/** Epoch milliseconds sent as a string of digits (OKX ts). */
export const epochMsString = z
  .string()
  .regex(/^[1-9]\d{0,15}$/, { message: 'expected epoch milliseconds as a string of digits' })
  .transform(Number)
  .pipe(epochMsNumber);

/** A list that must hold at least one element, of which only the first is used (OKX data, Bybit result.list). */
export function firstOf<T extends z.ZodType>(item: T) {
  return z
    .array(item)
    .min(1, { message: 'expected at least one element' })
    .transform((list) => list[0] as z.output<T>);
}

/** Validates `body` against the exchange's schema; any mismatch is an UpstreamInvalidBodyError naming the first problem. */
export function parseBody<S extends z.ZodType>(
  exchange: ExchangeName,
  schema: S,
  body: unknown,
): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
  throw new UpstreamInvalidBodyError(
    `${exchange}: unexpected ticker body${where}: ${issue?.message ?? 'invalid'}`,
  );
}

/**
 * Builds the ticker from validated price strings: rejects a crossed or locked book (bid >= ask) and
 * canonicalises every price ("3521.40000000" -> "3521.4"). `last` is informational: kept only when it is a
 * positive decimal string (some exchanges send "" before the first trade).
 */
export function toTicker(
  exchange: ExchangeName,
  fields: { bid: string; ask: string; last?: string | undefined; timestampMs?: number | undefined },
): Ticker {
  const bid = new Big(fields.bid);
  const ask = new Big(fields.ask);
  if (bid.gte(ask)) {
    throw new UpstreamInvalidBodyError(`${exchange}: bid ${fields.bid} is not below ask ${fields.ask}`);
  }
  return {
    bid: toDecimalString(bid),
    ask: toDecimalString(ask),
    ...(isPositiveDecimalString(fields.last) && { last: toDecimalString(new Big(fields.last)) }),
    ...(fields.timestampMs !== undefined && { timestampMs: fields.timestampMs }),
  };
}

/** Rejects a body that answers for another instrument than the one requested. */
export function expectSymbol(exchange: ExchangeName, received: string, requested: string): void {
  if (received !== requested) {
    throw new UpstreamInvalidBodyError(`${exchange}: body is for ${received}, requested ${requested}`);
  }
}

const MAX_DESCRIPTION = 200;

/** "code -1121: Invalid symbol." (or "code 51001" without a message), cut to a log-friendly length. */
export function describeCode(code: string | number, message?: string): string {
  return shorten(message ? `code ${code}: ${message}` : `code ${code}`);
}

/** Cuts free text taken from a body to a log-friendly length. */
export function shorten(text: string): string {
  return text.length > MAX_DESCRIPTION ? `${text.slice(0, MAX_DESCRIPTION - 1)}…` : text;
}
