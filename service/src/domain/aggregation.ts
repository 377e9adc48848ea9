import { Big, toDecimalString } from './decimal';
import type { Quote } from './quote';

/** What happened to one source in one aggregation round. */
export type SourceState = 'used' | 'rejected_outlier' | 'stale' | 'error' | 'circuit_open' | 'rate_limited';
/** Why a source was left out of a round (every SourceState but `used`): the rejections metric's reasons. */
export const SOURCE_REJECTIONS = [
  'rejected_outlier',
  'stale',
  'error',
  'circuit_open',
  'rate_limited',
] as const;

/** Why a source brought no quote this round. */
export type FailureState = 'error' | 'circuit_open' | 'rate_limited';

/**
 * One source's outcome for one refresh round: a validated quote, or the reason there is none. What replicas
 * share through Redis (the lease winner writes it, the others read it) and what aggregation takes.
 */
export type SourceOutcome =
  | { readonly kind: 'quote'; readonly epoch: number; readonly quote: Quote }
  | {
      readonly kind: 'failure';
      readonly epoch: number;
      readonly state: FailureState;
      readonly errorCode: string;
    };

/** One source as a client is shown it (in the snapshot and the API): what aggregation made of its outcome. */
export interface SourceView {
  readonly exchange: string;
  readonly state: SourceState;
  /** Mid of the source's bid and ask. */
  readonly price?: string;
  readonly bid?: string;
  readonly ask?: string;
  readonly timestampMs?: number;
  readonly timestampSource?: 'exchange' | 'receive';
  readonly latencyMs?: number;
  /** Distance of the source's mid from the cross-source median, in basis points (2 decimals). */
  readonly deviationBps?: string;
  /** The error code of a failed source. */
  readonly error?: string;
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
  readonly sources: readonly SourceView[];
  readonly used: number;
}

const TWO = new Big(2);
const BPS = new Big(10_000);

/**
 * RedStone-style aggregation in decimal arithmetic: drop stale quotes, take the median of mids, drop sources
 * further than maxDeviationBps from it, then the median again of what is left, if a quorum is left.
 */
export function aggregate(
  /** Each configured source's outcome, by the name the caller knows it by, in the order to report them. */
  outcomes: ReadonlyMap<string, SourceOutcome>,
  nowMs: number,
  rules: AggregationRules,
): AggregationResult {
  const reports = new Map<string, SourceView>();
  const fresh: { exchange: string; quote: Quote; mid: Big }[] = [];
  for (const [exchange, outcome] of outcomes) {
    if (outcome.kind === 'failure') {
      reports.set(
        exchange,
        view(exchange, outcome.state, undefined, undefined, undefined, outcome.errorCode),
      );
      continue;
    }
    const { quote } = outcome;
    const mid = new Big(quote.bid).plus(quote.ask).div(TWO);
    if (nowMs - quote.timestampMs > rules.maxSourceAgeMs) {
      reports.set(exchange, view(exchange, 'stale', quote, toDecimalString(mid)));
    } else {
      fresh.push({ exchange, quote, mid });
    }
  }

  const firstMedian = fresh.length > 0 ? median(fresh.map((f) => f.mid)) : undefined;
  const accepted: { exchange: string; quote: Quote; mid: Big }[] = [];
  for (const candidate of fresh) {
    const deviation = deviationBps(candidate.mid, firstMedian as Big);
    if (deviation.gt(rules.maxDeviationBps)) {
      reports.set(
        candidate.exchange,
        view(
          candidate.exchange,
          'rejected_outlier',
          candidate.quote,
          toDecimalString(candidate.mid),
          toDecimalString(deviation.round(2)),
        ),
      );
    } else {
      accepted.push(candidate);
    }
  }

  const finalMedian = accepted.length > 0 ? median(accepted.map((a) => a.mid)) : undefined;
  for (const { exchange, quote, mid } of accepted) {
    reports.set(
      exchange,
      view(
        exchange,
        'used',
        quote,
        toDecimalString(mid),
        toDecimalString(deviationBps(mid, finalMedian as Big).round(2)),
      ),
    );
  }

  // Keep the caller's source order so responses are stable from one round to the next.
  const sources = [...outcomes.keys()].map((exchange) => reports.get(exchange) as SourceView);
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

/** Every field present (undefined where it does not apply), so each view has the same shape. */
function view(
  exchange: string,
  state: SourceState,
  quote: Quote | undefined,
  mid: string | undefined,
  deviation?: string,
  error?: string,
): SourceView {
  return {
    exchange,
    state,
    price: mid,
    bid: quote?.bid,
    ask: quote?.ask,
    timestampMs: quote?.timestampMs,
    timestampSource: quote?.timestampSource,
    latencyMs: quote?.latencyMs,
    deviationBps: deviation,
    error,
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
