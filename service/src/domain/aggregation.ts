import { Big, toDecimalString } from './decimal';
import type { Quote } from './quote';

/** What happened to one source in one aggregation round. */
export type SourceState = 'used' | 'rejected_outlier' | 'stale' | 'error' | 'circuit_open' | 'rate_limited';

/** One source's input to a round: a validated quote, or the reason there is none. */
export type SourceResult =
  | { readonly exchange: string; readonly quote: Quote }
  | {
      readonly exchange: string;
      readonly quote?: undefined;
      readonly state: 'error' | 'circuit_open' | 'rate_limited';
      readonly errorCode: string;
    };

export interface SourceReport {
  readonly exchange: string;
  readonly state: SourceState;
  readonly quote?: Quote;
  /** Mid of the source's bid and ask. */
  readonly mid?: string;
  /** Distance of the source's mid from the cross-source median, in basis points (2 decimals). */
  readonly deviationBps?: string;
  readonly errorCode?: string;
}

export interface AggregatedPrice {
  /** Median of the accepted sources' mids. */
  readonly price: string;
  readonly bid: string;
  readonly ask: string;
  /** Pyth-style spread of the accepted mids: max(p50 - p25, p75 - p50). */
  readonly confidence: string;
  /** The oldest accepted source timestamp: the price is no younger than its oldest input. */
  readonly timestampMs: number;
  readonly used: number;
}

export interface AggregationRules {
  readonly minQuorum: number;
  readonly maxDeviationBps: number;
  readonly maxSourceAgeMs: number;
}

export interface AggregationResult {
  /** Undefined when fewer than minQuorum sources survive validation, staleness and outlier rejection. */
  readonly price: AggregatedPrice | undefined;
  readonly sources: readonly SourceReport[];
  readonly used: number;
}

const TWO = new Big(2);
const BPS = new Big(10_000);

/**
 * RedStone-style aggregation in decimal arithmetic: drop stale quotes, take the median of mids, drop sources
 * further than maxDeviationBps from it, then the median again of what is left, if a quorum is left.
 */
export function aggregate(
  results: readonly SourceResult[],
  nowMs: number,
  rules: AggregationRules,
): AggregationResult {
  const reports = new Map<string, SourceReport>();
  // Reports are keyed by the result's exchange, the name the caller asked for.
  const fresh: { exchange: string; quote: Quote; mid: Big }[] = [];
  for (const result of results) {
    if (result.quote === undefined) {
      reports.set(result.exchange, {
        exchange: result.exchange,
        state: result.state,
        errorCode: result.errorCode,
      });
      continue;
    }
    const { exchange, quote } = result;
    const mid = new Big(quote.bid).plus(quote.ask).div(TWO);
    if (nowMs - quote.timestampMs > rules.maxSourceAgeMs) {
      reports.set(exchange, {
        exchange,
        state: 'stale',
        quote,
        mid: toDecimalString(mid),
      });
    } else {
      fresh.push({ exchange, quote, mid });
    }
  }

  const firstMedian = fresh.length > 0 ? median(fresh.map((f) => f.mid)) : undefined;
  const accepted: { exchange: string; quote: Quote; mid: Big }[] = [];
  for (const candidate of fresh) {
    const deviation = deviationBps(candidate.mid, firstMedian as Big);
    if (deviation.gt(rules.maxDeviationBps)) {
      reports.set(candidate.exchange, {
        exchange: candidate.exchange,
        state: 'rejected_outlier',
        quote: candidate.quote,
        mid: toDecimalString(candidate.mid),
        deviationBps: toDecimalString(deviation.round(2)),
      });
    } else {
      accepted.push(candidate);
    }
  }

  const finalMedian = accepted.length > 0 ? median(accepted.map((a) => a.mid)) : undefined;
  for (const { exchange, quote, mid } of accepted) {
    reports.set(exchange, {
      exchange,
      state: 'used',
      quote,
      mid: toDecimalString(mid),
      deviationBps: toDecimalString(deviationBps(mid, finalMedian as Big).round(2)),
    });
  }

  // Keep the caller's source order so responses are stable from one round to the next.
  const sources = results.map((r) => reports.get(r.exchange) as SourceReport);
  if (accepted.length < rules.minQuorum || finalMedian === undefined) {
    return { price: undefined, sources, used: accepted.length };
  }
  const mids = accepted.map((a) => a.mid).sort(compare);
  const p25 = quantile(mids, 1, 4);
  const p50 = finalMedian;
  const p75 = quantile(mids, 3, 4);
  const spreadLow = p50.minus(p25);
  const spreadHigh = p75.minus(p50);
  return {
    price: {
      price: toDecimalString(finalMedian),
      bid: toDecimalString(median(accepted.map((a) => new Big(a.quote.bid)))),
      ask: toDecimalString(median(accepted.map((a) => new Big(a.quote.ask)))),
      confidence: toDecimalString(spreadLow.gt(spreadHigh) ? spreadLow : spreadHigh),
      timestampMs: Math.min(...accepted.map((a) => a.quote.timestampMs)),
      used: accepted.length,
    },
    sources,
    used: accepted.length,
  };
}

function compare(a: Big, b: Big): number {
  return a.cmp(b);
}

/** Median of a non-empty list; the mean of the middle two for an even count (exact in decimal). */
export function median(values: readonly Big[]): Big {
  if (values.length === 0) throw new RangeError('median of an empty list');
  return quantile([...values].sort(compare), 1, 2);
}

/** Quantile num/den of a sorted list by linear interpolation between closest ranks (type 7). */
function quantile(sorted: readonly Big[], num: number, den: number): Big {
  const position = ((sorted.length - 1) * num) / den; // exact: small integers over 2 or 4
  const lower = Math.floor(position);
  const fraction = new Big(position - lower);
  const low = sorted[lower] as Big;
  const high = sorted[Math.min(lower + 1, sorted.length - 1)] as Big;
  return low.plus(high.minus(low).times(fraction));
}

function deviationBps(value: Big, reference: Big): Big {
  return value.minus(reference).abs().times(BPS).div(reference);
}
