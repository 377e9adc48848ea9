import { z } from 'zod';
import type { Pair } from '../../../domain/pair';
import { UpstreamBodyError, UpstreamRateLimitedError } from '../../../domain/errors';
import type { ExchangeAdapter } from '../exchange-adapter';
import { describeCode, epochMsNumber, expectSymbol, firstOf, parseBody, price, toTicker } from './shared';

// GET /v5/market/tickers?category=spot&symbol=ETHUSDT
// -> {"retCode":0,"retMsg":"OK","result":{"category":"spot","list":[{"symbol":"ETHUSDT","bid1Price":"3521.44",
//     "bid1Size":"1.2","ask1Price":"3521.45","ask1Size":"0.8","lastPrice":"3521.45",...}]},"retExtInfo":{},
//     "time":1795833900061}
// Errors: {"retCode":10001,"retMsg":"Not supported symbols","result":{},"retExtInfo":{},"time":...}, HTTP 200.
const envelope = z.object({ retCode: z.number(), retMsg: z.string().optional() });

const tickerBody = z.object({
  retCode: z.literal(0),
  result: z.object({
    list: firstOf(
      z.object({ symbol: z.string(), bid1Price: price, ask1Price: price, lastPrice: z.string().optional() }),
    ),
  }),
  time: epochMsNumber,
});

/** Too many visits. The IP limit is counted per 5 s window: wait out one. */
const RATE_LIMIT_CODE = 10006;
export const BYBIT_RATE_LIMIT_RETRY_AFTER_MS = 5000;

const symbolOf = (pair: Pair): string => `${pair.base}${pair.quote}`;

export const bybit: ExchangeAdapter = {
  name: 'bybit',
  defaultBaseUrl: 'https://api.bybit.com',

  tickerPath: (pair) =>
    `/v5/market/tickers?${new URLSearchParams({ category: 'spot', symbol: symbolOf(pair) })}`,

  parseTicker(body, pair) {
    const { retCode, retMsg } = parseBody('bybit', envelope, body);
    if (retCode === RATE_LIMIT_CODE) {
      throw new UpstreamRateLimitedError(
        BYBIT_RATE_LIMIT_RETRY_AFTER_MS,
        undefined,
        `bybit: ${describeCode(retCode, retMsg)}`,
      );
    }
    if (retCode !== 0) throw new UpstreamBodyError(String(retCode), retMsg || 'no message');
    const { result, time } = parseBody('bybit', tickerBody, body);
    const ticker = result.list;
    expectSymbol('bybit', ticker.symbol, symbolOf(pair));
    return toTicker('bybit', {
      bid: ticker.bid1Price,
      ask: ticker.ask1Price,
      last: ticker.lastPrice,
      timestampMs: time,
    });
  },

  describeErrorBody(body) {
    const error = envelope.safeParse(body);
    return error.success ? describeCode(error.data.retCode, error.data.retMsg) : undefined;
  },
};
