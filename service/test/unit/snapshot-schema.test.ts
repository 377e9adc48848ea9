import type { SourceOutcome } from '../../src/domain/aggregation';
import type { PriceSnapshot } from '../../src/application/price-snapshot';
import { parseSnapshot, parseSourceResult } from '../../src/infrastructure/cache/snapshot-schema';
import { FAILED_SOURCE, SNAPSHOT as SAMPLE, T } from '../fixtures/snapshots';

// The shared sample with its third source failed: every optional field of a source, present and absent.
const SNAPSHOT: PriceSnapshot = {
  ...SAMPLE,
  sources: [...SAMPLE.sources.slice(0, 2), FAILED_SOURCE],
};

/** Parsed JSON, edited freely by the poisoning functions below. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/** SNAPSHOT as JSON with one change applied to a deep copy. */
function poisoned(change: (json: Json) => void): string {
  const json = JSON.parse(JSON.stringify(SNAPSHOT)) as Json;
  change(json);
  return JSON.stringify(json);
}

describe('parseSnapshot', () => {
  test('When a valid snapshot is stored and read back, then it round-trips unchanged', () => {
    expect(parseSnapshot(JSON.stringify(SNAPSHOT))).toStrictEqual(SNAPSHOT);
  });

  test('When a snapshot has no price yet, then it is still valid', () => {
    const { price: _price, ...withoutPrice } = SNAPSHOT;
    expect(parseSnapshot(JSON.stringify(withoutPrice))).toStrictEqual(withoutPrice);
  });

  test('When the source list is empty, then it is valid', () => {
    expect(parseSnapshot(poisoned((j) => (j.sources = [])))?.sources).toEqual([]);
  });

  test.each(['', '{', 'not json', 'null', '[]', '"snapshot"', '42'])(
    'When the stored text is %p, then it is rejected',
    (text) => {
      expect(parseSnapshot(text)).toBeUndefined();
    },
  );

  test.each<[string, (j: Json) => void]>([
    ['an extra top-level key', (j) => (j.admin = true)],
    ['an extra key in price', (j) => (j.price.note = 'x')],
    ['an extra key in quorum', (j) => (j.quorum.max = 6)],
    ['an extra key in a source', (j) => (j.sources[0].url = 'http://evil')],
    ['price as a number', (j) => (j.price.price = 3500.015)],
    ['price in exponent notation "1e3"', (j) => (j.price.price = '1e3')],
    ['a negative price', (j) => (j.price.price = '-3500')],
    ['a zero bid', (j) => (j.price.bid = '0')],
    ['an ask with spaces', (j) => (j.price.ask = ' 3500')],
    ['a 65-character price', (j) => (j.price.price = '1.' + '0'.repeat(63))],
    ['confidence as a number', (j) => (j.price.confidence = 0.5)],
    ['a null price', (j) => (j.price = null)],
    ['a source price "1e3"', (j) => (j.sources[0].price = '1e3')],
    ['a source deviationBps "NaN"', (j) => (j.sources[0].deviationBps = 'NaN')],
    ['wrong version v: 2', (j) => (j.v = 2)],
    ['version as a string', (j) => (j.v = '1')],
    ['no version', (j) => delete j.v],
    ['an upper-case pair slug', (j) => (j.pair = 'ETH-USDT')],
    ['a pair slug with a slash', (j) => (j.pair = 'eth/usdt')],
    ['a pair slug with three parts', (j) => (j.pair = 'eth-usdt-x')],
    ['a lower-case symbol', (j) => (j.symbol = 'eth/usdt')],
    ['an error string of 65 characters', (j) => (j.sources[2].error = 'E'.repeat(65))],
    ['a huge error string', (j) => (j.sources[2].error = 'E'.repeat(100_000))],
    ['an unknown source state', (j) => (j.sources[0].state = 'excellent')],
    ['an unknown timestampSource', (j) => (j.sources[0].timestampSource = 'guess')],
    ['a 33-character exchange name', (j) => (j.sources[0].exchange = 'x'.repeat(33))],
    ['an empty exchange name', (j) => (j.sources[0].exchange = '')],
    ['a negative latency', (j) => (j.sources[0].latencyMs = -1)],
    ['a zero timestamp', (j) => (j.price.timestampMs = 0)],
    ['a fractional timestamp', (j) => (j.price.timestampMs = T + 0.5)],
    ['a timestamp as an ISO string', (j) => (j.updatedAtMs = new Date(T).toISOString())],
    ['a negative quorum.used', (j) => (j.quorum.used = -1)],
    ['quorum.configured 0', (j) => (j.quorum.configured = 0)],
    ['sources as an object', (j) => (j.sources = { binance: j.sources[0] })],
  ])('When the snapshot has %s, then it is rejected', (_name, change) => {
    expect(parseSnapshot(poisoned(change))).toBeUndefined();
  });

  test('When the stored JSON carries a __proto__ key, then it is rejected', () => {
    const text = JSON.stringify(SNAPSHOT).replace('{', '{"__proto__":{"polluted":true},');
    expect(parseSnapshot(text)).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('When an error string is exactly 64 characters, then it is accepted', () => {
    expect(parseSnapshot(poisoned((j) => (j.sources[2].error = 'E'.repeat(64))))?.sources[2]?.error).toBe(
      'E'.repeat(64),
    );
  });
});

const QUOTE_RESULT: SourceOutcome = {
  kind: 'quote',
  epoch: 1_750_000_000,
  quote: {
    exchange: 'binance',
    pair: 'eth-usdt',
    bid: '3500.01',
    ask: '3500.02',
    last: '3500.015',
    timestampMs: T,
    timestampSource: 'exchange',
    receivedAtMs: T + 3,
    latencyMs: 14,
  },
};

const FAILURE_RESULT: SourceOutcome = {
  kind: 'failure',
  epoch: 1_750_000_000,
  state: 'rate_limited',
  errorCode: 'UPSTREAM_RATE_LIMITED',
};

describe('parseSourceResult', () => {
  test('When a quote result is stored and read back, then it round-trips unchanged', () => {
    expect(parseSourceResult(JSON.stringify(QUOTE_RESULT))).toStrictEqual(QUOTE_RESULT);
  });

  test('When a failure result is stored and read back, then it round-trips unchanged', () => {
    expect(parseSourceResult(JSON.stringify(FAILURE_RESULT))).toStrictEqual(FAILURE_RESULT);
  });

  test.each<[string, unknown]>([
    ['not JSON', undefined],
    ['an unknown kind', { ...FAILURE_RESULT, kind: 'maybe' }],
    ['a failure with state "used"', { ...FAILURE_RESULT, state: 'used' }],
    ['a failure with a 65-character errorCode', { ...FAILURE_RESULT, errorCode: 'E'.repeat(65) }],
    ['a failure with an extra key', { ...FAILURE_RESULT, detail: 'x' }],
    ['a negative epoch', { ...FAILURE_RESULT, epoch: -1 }],
    ['a quote bid as a number', { ...QUOTE_RESULT, quote: { ...QUOTE_RESULT.quote, bid: 3500.01 } }],
    ['a quote ask "1e3"', { ...QUOTE_RESULT, quote: { ...QUOTE_RESULT.quote, ask: '1e3' } }],
    ['a negative quote bid', { ...QUOTE_RESULT, quote: { ...QUOTE_RESULT.quote, bid: '-1' } }],
    ['a quote with an extra key', { ...QUOTE_RESULT, quote: { ...QUOTE_RESULT.quote, extra: 1 } }],
    [
      'a quote without timestampSource',
      { ...QUOTE_RESULT, quote: { ...QUOTE_RESULT.quote, timestampSource: undefined } },
    ],
    ['a quote kind carrying a failure body', { ...FAILURE_RESULT, kind: 'quote' }],
  ])('When the stored result has %s, then it is rejected', (_name, value) => {
    expect(parseSourceResult(value === undefined ? '{kind:' : JSON.stringify(value))).toBeUndefined();
  });
});
