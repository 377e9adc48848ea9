import { z } from 'zod';
import { isDecimalString, isPositiveDecimalString } from '../../domain/decimal';
import { MAX_FUTURE_SKEW_MS } from '../../domain/quote';
import type { SourceOutcome } from '../../domain/aggregation';
import type { PriceSnapshot } from '../../application/price-snapshot';

// Values read back from Redis are untrusted input: another version, a bug or a person may have written
// them. Anything that does not match exactly is rejected, counted, and never served.
const price = z.string().refine(isPositiveDecimalString, 'not a positive decimal string');
const decimal = z.string().refine(isDecimalString, 'not a decimal string');
// Checked at parse time: a timestamp far in the future would pin a worker's L1 (newest wins), be served as
// fresh forever, or make Date#toISOString throw while rendering.
const epochMs = z
  .number()
  .int()
  .positive()
  .refine((ms) => ms <= Date.now() + MAX_FUTURE_SKEW_MS, 'in the future');
const sourceState = z.enum(['used', 'rejected_outlier', 'stale', 'error', 'circuit_open', 'rate_limited']);

const snapshotSchema = z
  .object({
    v: z.literal(1),
    pair: z.string().regex(/^[a-z0-9]+-[a-z0-9]+$/),
    symbol: z.string().regex(/^[A-Z0-9]+\/[A-Z0-9]+$/),
    price: z
      .object({ price, bid: price, ask: price, confidence: decimal, timestampMs: epochMs })
      .strict()
      .optional(),
    updatedAtMs: epochMs,
    quorum: z
      .object({
        used: z.number().int().min(0),
        configured: z.number().int().min(1),
        min: z.number().int().min(1),
      })
      .strict(),
    sources: z.array(
      z
        .object({
          exchange: z.string().min(1).max(32),
          state: sourceState,
          price: price.optional(),
          bid: price.optional(),
          ask: price.optional(),
          timestampMs: epochMs.optional(),
          timestampSource: z.enum(['exchange', 'receive']).optional(),
          latencyMs: z.number().min(0).optional(),
          deviationBps: decimal.optional(),
          error: z.string().max(64).optional(),
        })
        .strict(),
    ),
  })
  .strict();

const quoteSchema = z
  .object({
    exchange: z.string().min(1).max(32),
    pair: z.string().min(3).max(32),
    bid: price,
    ask: price,
    last: price.optional(),
    timestampMs: epochMs,
    timestampSource: z.enum(['exchange', 'receive']),
    receivedAtMs: epochMs,
    latencyMs: z.number().min(0),
  })
  .strict();

const sourceResultSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('quote'), epoch: z.number().int().min(0), quote: quoteSchema }).strict(),
  z
    .object({
      kind: z.literal('failure'),
      epoch: z.number().int().min(0),
      state: z.enum(['error', 'circuit_open', 'rate_limited']),
      errorCode: z.string().max(64),
    })
    .strict(),
]);

/** Parses a stored snapshot; undefined when it is not JSON or not exactly a snapshot. */
export function parseSnapshot(text: string): PriceSnapshot | undefined {
  return safeParse(snapshotSchema, text) as PriceSnapshot | undefined;
}

export function parseSourceResult(text: string): SourceOutcome | undefined {
  return safeParse(sourceResultSchema, text) as SourceOutcome | undefined;
}

function safeParse(schema: z.ZodType, text: string): unknown {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const result = schema.safeParse(json);
  return result.success ? result.data : undefined;
}
