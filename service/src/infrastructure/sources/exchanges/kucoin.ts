import { z } from 'zod';
import type { Pair } from '../../../domain/pair';
import { UpstreamBodyError, UpstreamRateLimitedError } from '../../../domain/errors';
import type { ExchangeAdapter } from '../exchange-adapter';
import { describeCode, epochMsNumber, parseBody, price, toTicker } from './shared';

// GET /api/v1/market/orderbook/level1?symbol=ETH-USDT
// -> {"code":"200000","data":{"time":1795833900050,"sequence":"14621357713","price":"3521.45","size":"0.1",
//     "bestBid":"3521.44","bestBidSize":"2.3","bestAsk":"3521.46","bestAskSize":"0.7"}}
// Errors: {"code":"400100","msg":"..."}; an unknown symbol answers {"code":"200000","data":null}.
const envelope = z.object({ code: z.string(), msg: z.string().optional(), data: z.unknown().optional() });

const tickerBody = z.object({
  code: z.literal('200000'),
  data: z.object({ time: epochMsNumber, bestBid: price, bestAsk: price, price: z.string().optional() }),
});

/** Too many requests. The public quota is counted per 30 s window: wait out a whole one. */
const RATE_LIMIT_CODE = '429000';
export const KUCOIN_RATE_LIMIT_RETRY_AFTER_MS = 30_000;

const symbolOf = (pair: Pair): string => `${pair.base}-${pair.quote}`;

export const kucoin: ExchangeAdapter = {
  name: 'kucoin',
  defaultBaseUrl: 'https://api.kucoin.com',

  tickerPath: (pair) => `/api/v1/market/orderbook/level1?${new URLSearchParams({ symbol: symbolOf(pair) })}`,

  parseTicker(body, pair) {
    const { code, msg, data } = parseBody('kucoin', envelope, body);
    if (code === RATE_LIMIT_CODE) {
      throw new UpstreamRateLimitedError(
        KUCOIN_RATE_LIMIT_RETRY_AFTER_MS,
        undefined,
        `kucoin: ${describeCode(code, msg)}`,
      );
    }
    if (code !== '200000') throw new UpstreamBodyError(code, msg || 'no message');
    if (data === null) {
      throw new UpstreamBodyError(code, `no level-1 book for ${symbolOf(pair)} (unknown symbol?)`);
    }
    const ticker = parseBody('kucoin', tickerBody, body).data;
    return toTicker('kucoin', {
      bid: ticker.bestBid,
      ask: ticker.bestAsk,
      last: ticker.price,
      timestampMs: ticker.time,
    });
  },

  describeErrorBody(body) {
    const error = envelope.safeParse(body);
    return error.success ? describeCode(error.data.code, error.data.msg) : undefined;
  },
};
