import { z } from 'zod';
import type { Pair } from '../../../domain/pair';
import { UpstreamBodyError } from '../../../domain/errors';
import type { ExchangeAdapter } from '../exchange-adapter';
import { describeCode, expectSymbol, parseBody, price, toTicker } from './shared';

// GET /api/v3/ticker/bookTicker?symbol=ETHUSDT
// -> {"symbol":"ETHUSDT","bidPrice":"3521.40000000","bidQty":"12.5","askPrice":"3521.41000000","askQty":"3.1"}
// No timestamp: the caller records the receive time.
const bookTicker = z.object({ symbol: z.string(), bidPrice: price, askPrice: price });

// {"code":-1121,"msg":"Invalid symbol."} (normally with HTTP 400)
const errorBody = z.object({ code: z.number(), msg: z.string() });

const symbolOf = (pair: Pair): string => `${pair.base}${pair.quote}`;

export const binance: ExchangeAdapter = {
  name: 'binance',
  defaultBaseUrl: 'https://data-api.binance.vision',

  tickerPath: (pair) => `/api/v3/ticker/bookTicker?${new URLSearchParams({ symbol: symbolOf(pair) })}`,

  parseTicker(body, pair) {
    const error = errorBody.safeParse(body);
    if (error.success) throw new UpstreamBodyError(String(error.data.code), error.data.msg);
    const ticker = parseBody('binance', bookTicker, body);
    expectSymbol('binance', ticker.symbol, symbolOf(pair));
    return toTicker('binance', { bid: ticker.bidPrice, ask: ticker.askPrice });
  },

  describeErrorBody(body) {
    const error = errorBody.safeParse(body);
    return error.success ? describeCode(error.data.code, error.data.msg) : undefined;
  },
};
