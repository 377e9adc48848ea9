import { kucoin } from '../../../src/infrastructure/sources/exchanges/kucoin';
import { UpstreamBodyError, UpstreamInvalidBodyError } from '../../../src/domain/errors';
import { ETH_USDT, fixture, thrown } from './helpers';

describe('kucoin adapter specifics', () => {
  test('When an unknown symbol yields code 200000 with data null, then it is an UpstreamBodyError', () => {
    const error = thrown(() => kucoin.parseTicker(fixture('kucoin', 'unknown-symbol'), ETH_USDT));
    expect(error).toBeInstanceOf(UpstreamBodyError);
    expect(error).toMatchObject({
      exchangeCode: '200000',
      message: 'exchange error 200000: no level-1 book for ETH-USDT (unknown symbol?)',
    });
  });

  test('When the book is empty (null prices), then the body is rejected as invalid', () => {
    expect(() => kucoin.parseTicker(fixture('kucoin', 'wrong-shape'), ETH_USDT)).toThrow(
      UpstreamInvalidBodyError,
    );
  });

  test.each([
    ['a string', '1795833900050'],
    ['a fraction', 1795833900050.5],
    ['negative', -1],
    ['missing', undefined],
  ])('When data.time is %s, then the body is rejected as invalid', (_, time) => {
    const body = fixture<{ data: Record<string, unknown> }>('kucoin', 'ok');
    body.data.time = time;
    expect(() => kucoin.parseTicker(body, ETH_USDT)).toThrow(UpstreamInvalidBodyError);
  });
});
