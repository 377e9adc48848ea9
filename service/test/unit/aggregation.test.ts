import {
  aggregate as aggregateOutcomes,
  median,
  type AggregationRules,
  type FailureState,
  type SourceState,
  type SourceView,
} from '../../src/domain/aggregation';
import { Big } from '../../src/domain/decimal';
import type { Quote } from '../../src/domain/quote';

const NOW = 1_750_000_000_000;
const RULES: AggregationRules = { minQuorum: 3, maxDeviationBps: 100, maxSourceAgeMs: 10_000 };

function quote(exchange: string, bid: string, ask: string, ageMs = 0): Quote {
  return {
    exchange,
    pair: 'eth-usdt',
    bid,
    ask,
    timestampMs: NOW - ageMs,
    timestampSource: 'exchange',
    receivedAtMs: NOW,
    latencyMs: 12,
  };
}

/** One source's input, written the short way: its quote, or its failure. */
type SourceInput =
  | { readonly exchange: string; readonly quote: Quote }
  | { readonly exchange: string; readonly state: FailureState; readonly errorCode: string };

/** aggregate() over inputs in this order (the epoch plays no part in aggregation). */
function aggregate(inputs: readonly SourceInput[], nowMs: number, rules: AggregationRules) {
  return aggregateOutcomes(
    new Map(
      inputs.map((input) => [
        input.exchange,
        'quote' in input
          ? { kind: 'quote', epoch: 1, quote: input.quote }
          : { kind: 'failure', epoch: 1, state: input.state, errorCode: input.errorCode },
      ]),
    ),
    nowMs,
    rules,
  );
}

/** The view a client is shown of a source: every field present, undefined where it does not apply. */
function shown(
  exchange: string,
  state: SourceState,
  q?: Quote,
  mid?: string,
  deviationBps?: string,
  error?: string,
): SourceView {
  return {
    exchange,
    state,
    price: mid,
    bid: q?.bid,
    ask: q?.ask,
    timestampMs: q?.timestampMs,
    timestampSource: q?.timestampSource,
    latencyMs: q?.latencyMs,
    deviationBps,
    error,
  };
}

/** A source whose bid and ask are both `price`, so its mid is exactly `price`. */
function at(exchange: string, price: string, ageMs = 0): SourceInput {
  return { exchange, quote: quote(exchange, price, price, ageMs) };
}

function book(exchange: string, bid: string, ask: string, ageMs = 0): SourceInput {
  return { exchange, quote: quote(exchange, bid, ask, ageMs) };
}

const decimals = (values: string[]) => values.map((v) => new Big(v));

describe('median', () => {
  test('When the count is odd, then the median is the middle value of the sorted list', () => {
    expect(median(decimals(['3502', '3500', '3501'])).toFixed()).toBe('3501');
  });

  test('When there are two values, then the median is their exact mean', () => {
    expect(median(decimals(['3500.01', '3500.02'])).toFixed()).toBe('3500.015');
  });

  test('When the count is even, then the median is the exact mean of the middle two', () => {
    expect(median(decimals(['4', '1', '3', '2'])).toFixed()).toBe('2.5');
  });

  test('When there is one value, then the median is that value', () => {
    expect(median(decimals(['3521.43'])).toFixed()).toBe('3521.43');
  });

  test('When the list is empty, then median throws a RangeError', () => {
    expect(() => median([])).toThrow(new RangeError('median of an empty list'));
  });

  test('When the median is taken, then the input list keeps its order', () => {
    const values = decimals(['3', '1', '2']);
    median(values);
    expect(values.map((v) => v.toFixed())).toEqual(['3', '1', '2']);
  });

  test('When the middle values need more digits than a float has, then the median is still exact', () => {
    expect(median(decimals(['123456789012345678.12', '123456789012345678.13'])).toFixed()).toBe(
      '123456789012345678.125',
    );
  });
});

describe('aggregate: the price', () => {
  test('When three sources agree closely, then price, bid, ask, confidence and timestamp are exact medians', () => {
    const result = aggregate(
      [
        book('binance', '3499.5', '3500.5', 100),
        book('okx', '3500.5', '3501.5', 300),
        book('coinbase', '3502', '3503', 200),
      ],
      NOW,
      RULES,
    );
    expect(result.price).toStrictEqual({
      price: '3501',
      bid: '3500.5',
      ask: '3501.5',
      // sorted mids 3500, 3501, 3502.5: p25 = 3500.5, p50 = 3501, p75 = 3501.75
      confidence: '0.75',
      timestampMs: NOW - 300,
      used: 3,
    });
    expect(result.used).toBe(3);
  });

  test('When two sources are used, then the price is the exact mean of their mids ("3500.01", "3500.02" -> "3500.015")', () => {
    const result = aggregate(
      [book('binance', '3500.00', '3500.02'), book('okx', '3500.01', '3500.03')],
      NOW,
      { ...RULES, minQuorum: 2 },
    );
    expect(result.sources.map((s) => s.price)).toEqual(['3500.01', '3500.02']);
    expect(result.price?.price).toBe('3500.015');
    expect(result.price?.bid).toBe('3500.005');
    expect(result.price?.ask).toBe('3500.025');
    expect(result.price?.confidence).toBe('0.0025');
  });

  test('When four sources are used, then the price is the mean of the middle two mids', () => {
    const result = aggregate(
      [at('binance', '3500.04'), at('okx', '3500.01'), at('coinbase', '3500.03'), at('kraken', '3500.02')],
      NOW,
      RULES,
    );
    expect(result.price?.price).toBe('3500.025');
    expect(result.used).toBe(4);
  });

  test('When the bids and asks come from different books, then bid and ask are their own medians, not the median source', () => {
    const result = aggregate(
      [book('binance', '3000', '3010'), book('okx', '3004', '3006'), book('coinbase', '3002', '3004')],
      NOW,
      RULES,
    );
    // mids 3005, 3005, 3003; bids 3000, 3004, 3002; asks 3010, 3006, 3004
    expect(result.price?.price).toBe('3005');
    expect(result.price?.bid).toBe('3002');
    expect(result.price?.ask).toBe('3006');
  });

  test('When the even count of bids and asks is used, then bid and ask are the exact means of their middle two', () => {
    const result = aggregate(
      [
        book('binance', '3000.1', '3000.3'),
        book('okx', '3000.2', '3000.6'),
        book('coinbase', '3000.0', '3000.4'),
        book('kraken', '3000.5', '3000.7'),
      ],
      NOW,
      RULES,
    );
    // bids sorted 3000.0, 3000.1, 3000.2, 3000.5; asks sorted 3000.3, 3000.4, 3000.6, 3000.7
    expect(result.price?.bid).toBe('3000.15');
    expect(result.price?.ask).toBe('3000.5');
  });

  test('When the upper spread is wider, then confidence is p75 - p50', () => {
    const result = aggregate(
      [at('binance', '3000'), at('okx', '3001'), at('coinbase', '3002'), at('kraken', '3010')],
      NOW,
      RULES,
    );
    // p25 = 3000.75, p50 = 3001.5, p75 = 3004: max(0.75, 2.5)
    expect(result.price?.confidence).toBe('2.5');
  });

  test('When the lower spread is wider, then confidence is p50 - p25', () => {
    const result = aggregate(
      [at('binance', '2990'), at('okx', '2999'), at('coinbase', '3000'), at('kraken', '3001')],
      NOW,
      RULES,
    );
    // p25 = 2996.75, p50 = 2999.5, p75 = 3000.25: max(2.75, 0.75)
    expect(result.price?.confidence).toBe('2.75');
  });

  test('When a single source is used, then confidence is "0"', () => {
    const result = aggregate([at('binance', '3500.5')], NOW, { ...RULES, minQuorum: 1 });
    expect(result.price).toStrictEqual({
      price: '3500.5',
      bid: '3500.5',
      ask: '3500.5',
      confidence: '0',
      timestampMs: NOW,
      used: 1,
    });
  });

  test('When sources have different ages, then timestampMs is the oldest accepted one, ignoring stale and outlier sources', () => {
    const result = aggregate(
      [
        at('binance', '3000', 400),
        at('okx', '3001', 2_500),
        at('coinbase', '3002', 50),
        at('kraken', '3001', 20_000), // stale: older, but not accepted
        at('kucoin', '9000', 5_000), // outlier: older, but not accepted
      ],
      NOW,
      RULES,
    );
    expect(result.used).toBe(3);
    expect(result.price?.timestampMs).toBe(NOW - 2_500);
  });

  test('When prices have trailing zeros, then every output string is canonical', () => {
    const result = aggregate(
      [
        book('binance', '3500.10', '3500.30'),
        book('okx', '3500.20', '3500.40'),
        book('coinbase', '3500.00', '3500.20'),
      ],
      NOW,
      RULES,
    );
    expect(result.price).toStrictEqual({
      price: '3500.2',
      bid: '3500.1',
      ask: '3500.3',
      confidence: '0.05',
      timestampMs: NOW,
      used: 3,
    });
    expect(result.sources.map((s) => s.price)).toEqual(['3500.2', '3500.3', '3500.1']);
  });
});

describe('aggregate: outlier rejection', () => {
  test('When a source is exactly maxDeviationBps from the median, then it is kept', () => {
    const result = aggregate(
      [at('binance', '3000'), at('okx', '3000'), at('coinbase', '3000'), at('kraken', '3030')],
      NOW,
      RULES,
    );
    expect(result.used).toBe(4);
    expect(result.sources[3]).toStrictEqual(
      shown('kraken', 'used', quote('kraken', '3030', '3030'), '3030', '100'),
    );
    expect(result.price?.price).toBe('3000');
  });

  test('When a source is just above maxDeviationBps from the median, then it is rejected as an outlier', () => {
    const result = aggregate(
      [at('binance', '3000'), at('okx', '3000'), at('coinbase', '3000'), at('kraken', '3030.03')],
      NOW,
      RULES,
    );
    expect(result.used).toBe(3);
    expect(result.sources[3]).toStrictEqual(
      shown('kraken', 'rejected_outlier', quote('kraken', '3030.03', '3030.03'), '3030.03', '100.1'),
    );
    expect(result.price?.price).toBe('3000');
  });

  test('When a source is below the median by just over the limit, then it is rejected too', () => {
    const result = aggregate(
      [at('binance', '3000'), at('okx', '3000'), at('coinbase', '3000'), at('kraken', '2969.97')],
      NOW,
      RULES,
    );
    expect(result.sources[3]?.state).toBe('rejected_outlier');
    expect(result.sources[3]?.deviationBps).toBe('100.1');
  });

  test('When the excess is below the 2-decimal display precision, then the unrounded deviation still rejects it', () => {
    const result = aggregate(
      [at('binance', '3000'), at('okx', '3000'), at('coinbase', '3000'), at('kraken', '3030.000001')],
      NOW,
      RULES,
    );
    expect(result.sources[3]?.state).toBe('rejected_outlier');
    // 100.0000033… bps, shown rounded to 2 places
    expect(result.sources[3]?.deviationBps).toBe('100');
  });

  test('When an outlier is rejected, then it does not move the final median', () => {
    const result = aggregate(
      [at('binance', '3000'), at('okx', '3001'), at('coinbase', '3002'), at('kraken', '3900')],
      NOW,
      RULES,
    );
    // first median 3001.5 (with the outlier); final median 3001 (without it)
    expect(result.price?.price).toBe('3001');
    expect(result.sources.map((s) => s.state)).toEqual(['used', 'used', 'used', 'rejected_outlier']);
  });

  test('When sources are used, then their deviationBps is measured from the final median and rounded half-even to 2 places', () => {
    const result = aggregate([at('binance', '2999'), at('okx', '3000'), at('coinbase', '3002')], NOW, RULES);
    expect(result.sources.map((s) => s.deviationBps)).toEqual(['3.33', '0', '6.67']);
  });

  test('When a deviation is exactly halfway at the third decimal, then it rounds to even ("0.125" -> "0.12")', () => {
    const result = aggregate(
      [at('binance', '8000'), at('okx', '8000'), at('coinbase', '8000.1')],
      NOW,
      RULES,
    );
    expect(result.sources.map((s) => s.deviationBps)).toEqual(['0', '0', '0.12']);
  });
});

describe('aggregate: staleness', () => {
  test('When a quote is exactly maxSourceAgeMs old, then it is used', () => {
    const result = aggregate(
      [at('binance', '3000', 10_000), at('okx', '3000'), at('coinbase', '3000')],
      NOW,
      RULES,
    );
    expect(result.sources[0]?.state).toBe('used');
    expect(result.used).toBe(3);
  });

  test('When a quote is older than maxSourceAgeMs, then it is reported stale with its mid and takes no part', () => {
    const result = aggregate(
      [at('binance', '9999', 10_001), at('okx', '3000'), at('coinbase', '3001'), at('kraken', '3002')],
      NOW,
      RULES,
    );
    expect(result.sources[0]).toStrictEqual(
      shown('binance', 'stale', quote('binance', '9999', '9999', 10_001), '9999'),
    );
    expect(result.used).toBe(3);
    expect(result.price?.price).toBe('3001');
    expect(result.price?.timestampMs).toBe(NOW);
  });

  test('When staleness leaves fewer than minQuorum sources, then there is no price', () => {
    const result = aggregate(
      [at('binance', '3000', 10_001), at('okx', '3000', 60_000), at('coinbase', '3000')],
      NOW,
      RULES,
    );
    expect(result.price).toBeUndefined();
    expect(result.used).toBe(1);
    expect(result.sources.map((s) => s.state)).toEqual(['stale', 'stale', 'used']);
  });
});

describe('aggregate: quorum and failures', () => {
  test('When fewer than minQuorum sources are used, then price is undefined but every source is reported', () => {
    const result = aggregate(
      [
        at('binance', '3000'),
        { exchange: 'okx', state: 'error', errorCode: 'UPSTREAM_TIMEOUT' },
        at('coinbase', '3001'),
      ],
      NOW,
      RULES,
    );
    expect(result).toStrictEqual({
      price: undefined,
      used: 2,
      sources: [
        shown('binance', 'used', quote('binance', '3000', '3000'), '3000', '1.67'),
        shown('okx', 'error', undefined, undefined, undefined, 'UPSTREAM_TIMEOUT'),
        shown('coinbase', 'used', quote('coinbase', '3001', '3001'), '3001', '1.67'),
      ],
    });
  });

  test('When exactly minQuorum sources are used, then there is a price', () => {
    const result = aggregate([at('binance', '3000'), at('okx', '3000'), at('coinbase', '3000')], NOW, RULES);
    expect(result.price?.price).toBe('3000');
    expect(result.price?.used).toBe(3);
  });

  test('When sources failed, then error, circuit_open and rate_limited pass through with their errorCode', () => {
    const result = aggregate(
      [
        { exchange: 'binance', state: 'error', errorCode: 'UPSTREAM_HTTP_STATUS' },
        { exchange: 'okx', state: 'circuit_open', errorCode: 'UPSTREAM_CIRCUIT_OPEN' },
        { exchange: 'kraken', state: 'rate_limited', errorCode: 'UPSTREAM_RATE_LIMITED' },
      ],
      NOW,
      RULES,
    );
    expect(result).toStrictEqual({
      price: undefined,
      used: 0,
      sources: [
        shown('binance', 'error', undefined, undefined, undefined, 'UPSTREAM_HTTP_STATUS'),
        shown('okx', 'circuit_open', undefined, undefined, undefined, 'UPSTREAM_CIRCUIT_OPEN'),
        shown('kraken', 'rate_limited', undefined, undefined, undefined, 'UPSTREAM_RATE_LIMITED'),
      ],
    });
  });

  test('When there are no results at all, then there is no price, no source and nothing used', () => {
    expect(aggregate([], NOW, RULES)).toStrictEqual({ price: undefined, sources: [], used: 0 });
  });

  test('When states are mixed, then sources come back in the caller order', () => {
    const result = aggregate(
      [
        at('kraken', '3002'),
        { exchange: 'binance', state: 'rate_limited', errorCode: 'UPSTREAM_RATE_LIMITED' },
        at('okx', '3000', 60_000),
        at('coinbase', '3001'),
        at('bybit', '5000'),
        at('kucoin', '3000'),
      ],
      NOW,
      RULES,
    );
    expect(result.sources.map((s) => [s.exchange, s.state])).toEqual([
      ['kraken', 'used'],
      ['binance', 'rate_limited'],
      ['okx', 'stale'],
      ['coinbase', 'used'],
      ['bybit', 'rejected_outlier'],
      ['kucoin', 'used'],
    ]);
  });
});

describe('aggregate: decimal edge cases (never a float)', () => {
  test('When prices are 1e-18, then the result keeps every digit', () => {
    const tiny = '0.000000000000000001';
    const result = aggregate([at('binance', tiny), at('okx', tiny), at('coinbase', tiny)], NOW, RULES);
    expect(result.price).toStrictEqual({
      price: tiny,
      bid: tiny,
      ask: tiny,
      confidence: '0',
      timestampMs: NOW,
      used: 3,
    });
    expect(result.sources.map((s) => s.price)).toEqual([tiny, tiny, tiny]);
  });

  test('When prices differ only past the 15th significant digit, then the median is exact', () => {
    const result = aggregate(
      [
        at('binance', '1.0000000000000001'),
        at('okx', '1.0000000000000004'),
        at('coinbase', '1.0000000000000002'),
      ],
      NOW,
      RULES,
    );
    expect(result.price?.price).toBe('1.0000000000000002');
    // p25 = 1.00000000000000015, p75 = 1.0000000000000003
    expect(result.price?.confidence).toBe('0.0000000000000001');
    expect(result.sources.map((s) => s.deviationBps)).toEqual(['0', '0', '0']);
  });

  test('When a mid of 1.0000000000000001 and 1.0000000000000003 is taken, then it is 1.0000000000000002', () => {
    const result = aggregate([book('binance', '1.0000000000000001', '1.0000000000000003')], NOW, {
      ...RULES,
      minQuorum: 1,
    });
    expect(result.sources[0]?.price).toBe('1.0000000000000002');
    expect(result.price?.price).toBe('1.0000000000000002');
  });

  test('When prices are larger than 2^53, then price, bid and ask keep every digit', () => {
    const result = aggregate(
      [
        book('binance', '123456789012345678.12', '123456789012345678.14'),
        book('okx', '123456789012345678.11', '123456789012345678.13'),
        book('coinbase', '123456789012345678.13', '123456789012345678.15'),
      ],
      NOW,
      RULES,
    );
    expect(result.price).toStrictEqual({
      price: '123456789012345678.13',
      bid: '123456789012345678.12',
      ask: '123456789012345678.14',
      confidence: '0.005',
      timestampMs: NOW,
      used: 3,
    });
  });

  test('When two large prices are averaged, then the median has the extra digit ("…678.125")', () => {
    const result = aggregate(
      [at('binance', '123456789012345678.12'), at('okx', '123456789012345678.13')],
      NOW,
      {
        ...RULES,
        minQuorum: 2,
      },
    );
    expect(result.price?.price).toBe('123456789012345678.125');
  });

  test('When a mid needs a 19th decimal, then it is rounded half-even at 18 places (the documented bound)', () => {
    const result = aggregate(
      [
        book('binance', '0.000000000000000001', '0.000000000000000002'), // 1.5e-18 -> 2e-18
        book('okx', '0.000000000000000001', '0.000000000000000004'), // 2.5e-18 -> 2e-18
      ],
      NOW,
      { ...RULES, minQuorum: 2 },
    );
    expect(result.sources.map((s) => s.price)).toEqual(['0.000000000000000002', '0.000000000000000002']);
    expect(result.price?.price).toBe('0.000000000000000002');
  });

  test('When every output is produced, then each one is a plain decimal string, never exponent notation', () => {
    const result = aggregate(
      [at('binance', '0.0000001'), at('okx', '0.0000001'), at('coinbase', '0.0000001')],
      NOW,
      RULES,
    );
    expect(result.price?.price).toBe('0.0000001');
    expect(result.price?.confidence).toBe('0');
    expect(result.sources[0]?.deviationBps).toBe('0');
  });
});
