import { coinbase, parseCoinbaseTime } from '../../../src/infrastructure/sources/exchanges/coinbase';
import { UpstreamInvalidBodyError } from '../../../src/domain/errors';
import { ETH_USDT, fixture } from './helpers';

describe('coinbase adapter specifics', () => {
  test.each([
    ['microseconds, truncated to ms', '2026-11-28T02:45:00.050999Z', 1795833900050],
    ['milliseconds', '2026-11-28T02:45:00.050Z', 1795833900050],
    ['nanoseconds', '2026-11-28T02:45:00.050999999Z', 1795833900050],
    ['one fractional digit', '2026-11-28T02:45:00.5Z', 1795833900500],
    ['no fraction', '2026-11-28T02:45:00Z', 1795833900000],
  ])('When time has %s, then it parses to exact epoch ms', (_, text, ms) => {
    expect(parseCoinbaseTime(text)).toBe(ms);
  });

  test.each([
    ['a day that does not exist', '2026-02-30T02:45:00.050123Z'],
    ['hour 25', '2026-11-28T25:45:00Z'],
    ['no zone', '2026-11-28T02:45:00.050123'],
    ['a space separator', '2026-11-28 02:45:00.050123Z'],
    ['an offset instead of Z', '2026-11-28T03:45:00.050123+01:00'],
    ['free text', 'yesterday'],
    ['an empty string', ''],
  ])('When time has %s, then it does not parse', (_, text) => {
    expect(parseCoinbaseTime(text)).toBeUndefined();
  });

  test.each([
    ['unparseable', '2026-02-30T02:45:00Z'],
    ['a number', 1795833900050],
    ['missing', undefined],
  ])('When the body time is %s, then the body is rejected as invalid', (_, time) => {
    const body = { ...fixture<Record<string, unknown>>('coinbase', 'ok'), time };
    expect(() => coinbase.parseTicker(body, ETH_USDT)).toThrow(UpstreamInvalidBodyError);
  });
});
