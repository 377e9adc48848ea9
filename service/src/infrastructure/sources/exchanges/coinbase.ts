import { z } from 'zod';
import type { Pair } from '../../../domain/pair';
import { UpstreamBodyError } from '../../../domain/errors';
import type { ExchangeAdapter } from '../exchange-adapter';
import { parseBody, price, shorten, toTicker } from './shared';

// GET /products/ETH-USDT/ticker
// -> {"ask":"3521.46","bid":"3521.45","volume":"4120.51","trade_id":61897563,"price":"3521.45","size":"0.02",
//     "time":"2026-11-28T02:45:00.050123Z"}
// Errors: {"message":"NotFound"} (normally with HTTP 404).

/** Coinbase times are UTC with up to microseconds ("2026-11-28T02:45:00.050123Z"); returns epoch ms (truncated). */
export function parseCoinbaseTime(text: string): number | undefined {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(text);
  if (!match) return undefined;
  const [, seconds = '', fraction = ''] = match;
  const ms = Date.parse(`${seconds}.${fraction.padEnd(3, '0').slice(0, 3)}Z`);
  // Date.parse rolls 2026-02-30 over to March: the round trip rejects dates that do not exist.
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 19) !== seconds) return undefined;
  return ms;
}

const time = z.string().transform((text, ctx) => {
  const ms = parseCoinbaseTime(text);
  if (ms === undefined) ctx.addIssue({ code: 'custom', message: 'expected an ISO-8601 UTC time' });
  return ms ?? z.NEVER;
});

const tickerBody = z.object({ bid: price, ask: price, price: z.string().optional(), time });

const errorBody = z.object({ message: z.string() });

const productIdOf = (pair: Pair): string => `${pair.base}-${pair.quote}`;

export const coinbase: ExchangeAdapter = {
  name: 'coinbase',
  defaultBaseUrl: 'https://api.exchange.coinbase.com',

  tickerPath: (pair) => `/products/${encodeURIComponent(productIdOf(pair))}/ticker`,

  parseTicker(body, pair) {
    const error = errorBody.safeParse(body);
    if (error.success) {
      // Coinbase has no error codes: its message ("NotFound") is the closest thing to one.
      throw new UpstreamBodyError(shorten(error.data.message), `coinbase rejected ${productIdOf(pair)}`);
    }
    const ticker = parseBody('coinbase', tickerBody, body);
    // `time` is validated but not used: it is the time of the last trade, not of the bid and ask, and a
    // pair that has not traded for a while would make a current book look stale. Receive time it is.
    return toTicker('coinbase', { bid: ticker.bid, ask: ticker.ask, last: ticker.price });
  },

  describeErrorBody(body) {
    const error = errorBody.safeParse(body);
    return error.success ? shorten(error.data.message) : undefined;
  },
};
