import { z } from 'zod';
import type { Pair } from '../../../domain/pair';
import { UpstreamBodyError, UpstreamRateLimitedError } from '../../../domain/errors';
import type { ExchangeAdapter } from '../exchange-adapter';
import { describeCode, epochMsString, expectSymbol, firstOf, parseBody, price, toTicker } from './shared';

// GET /api/v5/market/ticker?instId=ETH-USDT
// -> {"code":"0","msg":"","data":[{"instType":"SPOT","instId":"ETH-USDT","last":"3521.42","askPx":"3521.43",
//     "bidPx":"3521.42",...,"ts":"1795833900050"}]}
// Errors come as {"code":"51001","msg":"Instrument ID does not exist","data":[]}, often with HTTP 200.
const envelope = z.object({ code: z.string(), msg: z.string().optional() });

const tickerBody = z.object({
  code: z.literal('0'),
  data: firstOf(
    z.object({
      instId: z.string(),
      bidPx: price,
      askPx: price,
      last: z.string().optional(),
      ts: epochMsString,
    }),
  ),
});

/** "Requests too frequent." OKX limits this endpoint to 20 requests per 2 s: wait out one window. */
const RATE_LIMIT_CODE = '50011';
export const OKX_RATE_LIMIT_RETRY_AFTER_MS = 2000;

const instIdOf = (pair: Pair): string => `${pair.base}-${pair.quote}`;

export const okx: ExchangeAdapter = {
  name: 'okx',
  defaultBaseUrl: 'https://www.okx.com',

  tickerPath: (pair) => `/api/v5/market/ticker?${new URLSearchParams({ instId: instIdOf(pair) })}`,

  parseTicker(body, pair) {
    const { code, msg } = parseBody('okx', envelope, body);
    if (code === RATE_LIMIT_CODE) {
      throw new UpstreamRateLimitedError(
        OKX_RATE_LIMIT_RETRY_AFTER_MS,
        undefined,
        `okx: ${describeCode(code, msg)}`,
      );
    }
    if (code !== '0') throw new UpstreamBodyError(code, msg || 'no message');
    const ticker = parseBody('okx', tickerBody, body).data;
    expectSymbol('okx', ticker.instId, instIdOf(pair));
    return toTicker('okx', {
      bid: ticker.bidPx,
      ask: ticker.askPx,
      last: ticker.last,
      timestampMs: ticker.ts,
    });
  },

  describeErrorBody(body) {
    const error = envelope.safeParse(body);
    return error.success ? describeCode(error.data.code, error.data.msg) : undefined;
  },
};
