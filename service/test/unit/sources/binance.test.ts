import { binance } from '../../../src/infrastructure/sources/exchanges/binance';
import { UpstreamBodyError, UpstreamInvalidBodyError } from '../../../src/domain/errors';
import { BTC_USDT, ETH_USDT, fixture, thrown } from './helpers';

describe('binance adapter specifics', () => {
  test('When the body carries no timestamp, then the ticker has none (the caller records receive time)', () => {
    expect('timestampMs' in binance.parseTicker(fixture('binance', 'ok'), ETH_USDT)).toBe(false);
  });

  test('When the body is for another symbol than requested, then it is rejected as invalid', () => {
    const error = thrown(() => binance.parseTicker(fixture('binance', 'ok'), BTC_USDT));
    expect(error).toBeInstanceOf(UpstreamInvalidBodyError);
    expect(error.message).toBe('binance: body is for ETHUSDT, requested BTCUSDT');
  });

  test('When a weight-limit body arrives with a 2xx status, then it is an UpstreamBodyError with code -1003', () => {
    const body = {
      code: -1003,
      msg: 'Too much request weight used; current limit is 6000 request weight per 1 MINUTE.',
    };
    expect(() => binance.parseTicker(body, ETH_USDT)).toThrow(UpstreamBodyError);
    expect(binance.describeErrorBody(body)).toBe(
      'code -1003: Too much request weight used; current limit is 6000 request weight per 1 MINUTE.',
    );
  });

  test('When an error message is very long, then the description is cut to 200 characters', () => {
    const description = binance.describeErrorBody({ code: -1000, msg: 'x'.repeat(500) });
    expect(description).toHaveLength(200);
    expect(description?.endsWith('…')).toBe(true);
  });
});
