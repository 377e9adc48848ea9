import { okx } from '../../../src/infrastructure/sources/exchanges/okx';
import { UpstreamBodyError, UpstreamInvalidBodyError } from '../../../src/domain/errors';
import { BTC_USDT, ETH_USDT, fixture, thrown } from './helpers';

type OkxBody = { code: unknown; msg?: unknown; data: Record<string, unknown>[] };

function okBody(patch: Record<string, unknown>): OkxBody {
  const body = fixture<OkxBody>('okx', 'ok');
  Object.assign(body.data[0]!, patch);
  return body;
}

describe('okx adapter specifics', () => {
  test('When the body is for another instrument than requested, then it is rejected as invalid', () => {
    const error = thrown(() => okx.parseTicker(fixture('okx', 'ok'), BTC_USDT));
    expect(error).toBeInstanceOf(UpstreamInvalidBodyError);
    expect(error.message).toBe('okx: body is for ETH-USDT, requested BTC-USDT');
  });

  test('When data is empty, then the body is rejected as invalid with the place named', () => {
    const error = thrown(() => okx.parseTicker(fixture('okx', 'wrong-shape'), ETH_USDT));
    expect(error.message).toBe('okx: unexpected ticker body at data: expected at least one element');
  });

  test.each([
    ['a JSON number', 1795833900050],
    ['not digits', 'yesterday'],
    ['empty', ''],
    ['exponent notation', '1.79e12'],
    ['zero', '0'],
    ['missing', undefined],
  ])('When ts is %s, then the body is rejected as invalid', (_, ts) => {
    expect(() => okx.parseTicker(okBody({ ts }), ETH_USDT)).toThrow(UpstreamInvalidBodyError);
  });

  test('When last is empty (no trade yet), then the ticker has bid and ask but no last', () => {
    expect(okx.parseTicker(okBody({ last: '' }), ETH_USDT)).toStrictEqual({
      bid: '3521.42',
      ask: '3521.43',
      timestampMs: 1795833900050,
    });
  });

  test('When an error code comes with an empty msg, then the UpstreamBodyError still names the code', () => {
    const error = thrown(() => okx.parseTicker({ code: '50001', msg: '', data: [] }, ETH_USDT));
    expect(error).toBeInstanceOf(UpstreamBodyError);
    expect(error.message).toBe('exchange error 50001: no message');
  });

  test('When code is a number instead of a string, then the body is rejected as invalid', () => {
    const body = fixture<OkxBody>('okx', 'ok');
    body.code = 0;
    expect(() => okx.parseTicker(body, ETH_USDT)).toThrow(UpstreamInvalidBodyError);
  });
});
