import { bybit } from '../../../src/infrastructure/sources/exchanges/bybit';
import { UpstreamInvalidBodyError } from '../../../src/domain/errors';
import { BTC_USDT, ETH_USDT, fixture, thrown } from './helpers';

describe('bybit adapter specifics', () => {
  test('When the body is for another symbol than requested, then it is rejected as invalid', () => {
    const error = thrown(() => bybit.parseTicker(fixture('bybit', 'ok'), BTC_USDT));
    expect(error).toBeInstanceOf(UpstreamInvalidBodyError);
    expect(error.message).toBe('bybit: body is for ETHUSDT, requested BTCUSDT');
  });

  test('When the list is empty, then the body is rejected as invalid with the place named', () => {
    const error = thrown(() => bybit.parseTicker(fixture('bybit', 'wrong-shape'), ETH_USDT));
    expect(error.message).toBe('bybit: unexpected ticker body at result.list: expected at least one element');
  });

  test.each([
    ['a string', '1795833900061'],
    ['missing', undefined],
  ])('When the envelope time is %s, then the body is rejected as invalid', (_, time) => {
    const body = { ...fixture<Record<string, unknown>>('bybit', 'ok'), time };
    expect(() => bybit.parseTicker(body, ETH_USDT)).toThrow(UpstreamInvalidBodyError);
  });

  test('When retCode is the string "0", then the body is rejected as invalid', () => {
    const body = { ...fixture<Record<string, unknown>>('bybit', 'ok'), retCode: '0' };
    expect(() => bybit.parseTicker(body, ETH_USDT)).toThrow(UpstreamInvalidBodyError);
  });
});
