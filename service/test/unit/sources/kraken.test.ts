import { kraken } from '../../../src/infrastructure/sources/exchanges/kraken';
import {
  UpstreamBodyError,
  UpstreamInvalidBodyError,
  UpstreamRateLimitedError,
} from '../../../src/domain/errors';
import { BTC_USDT, ETH_USDT, fixture, thrown } from './helpers';

describe('kraken adapter specifics', () => {
  test('When the result key differs from the requested pair (XBTUSDT for BTCUSDT), then the first key is used', () => {
    expect(kraken.parseTicker(fixture('kraken', 'ok-btc'), BTC_USDT)).toStrictEqual({
      bid: '91234.4',
      ask: '91234.5',
      last: '91234.5',
    });
  });

  test('When the body carries no timestamp, then the ticker has none (the caller records receive time)', () => {
    expect('timestampMs' in kraken.parseTicker(fixture('kraken', 'ok'), ETH_USDT)).toBe(false);
  });

  test('When error[] holds only a warning next to a result, then the result is used', () => {
    const body = {
      ...fixture<Record<string, unknown>>('kraken', 'ok'),
      error: ['WGeneral:Deprecated endpoint'],
    };
    expect(kraken.parseTicker(body, ETH_USDT).bid).toBe('3521.45');
  });

  test('When error[] holds a warning then an error, then the error is reported', () => {
    const body = { error: ['WGeneral:Deprecated endpoint', 'EService:Unavailable'] };
    const error = thrown(() => kraken.parseTicker(body, ETH_USDT));
    expect(error).toBeInstanceOf(UpstreamBodyError);
    expect(error).toMatchObject({
      exchangeCode: 'EService',
      message: 'exchange error EService: Unavailable',
    });
  });

  test('When error[] says "EGeneral:Too many requests", then it is rate limited for 5000 ms', () => {
    const error = thrown(() => kraken.parseTicker({ error: ['EGeneral:Too many requests'] }, ETH_USDT));
    expect(error).toBeInstanceOf(UpstreamRateLimitedError);
    expect(error).toMatchObject({ retryAfterMs: 5000, status: undefined });
  });

  test('When an error has no category separator, then the whole text is the code', () => {
    const error = thrown(() => kraken.parseTicker({ error: ['Unavailable'] }, ETH_USDT));
    expect(error).toMatchObject({
      exchangeCode: 'Unavailable',
      message: 'exchange error Unavailable: kraken error',
    });
  });

  test('When error[] is empty but result is missing, then the body is rejected as invalid', () => {
    expect(() => kraken.parseTicker({ error: [] }, ETH_USDT)).toThrow(UpstreamInvalidBodyError);
  });

  test('When result is empty, then the body is rejected as invalid with the place named', () => {
    const error = thrown(() => kraken.parseTicker(fixture('kraken', 'wrong-shape'), ETH_USDT));
    expect(error.message).toBe('kraken: unexpected ticker body at result: expected at least one pair');
  });

  test('When several errors are listed, then describeErrorBody joins them', () => {
    expect(
      kraken.describeErrorBody({ error: ['EGeneral:Invalid arguments', 'EQuery:Unknown asset pair'] }),
    ).toBe('EGeneral:Invalid arguments; EQuery:Unknown asset pair');
    expect(kraken.describeErrorBody({ error: [] })).toBeUndefined();
  });
});
