import { z } from 'zod';
import { UpstreamBodyError, UpstreamRateLimitedError } from '../../../domain/errors';
import type { ExchangeAdapter } from '../exchange-adapter';
import { parseBody, price, shorten, toTicker } from './shared';

// GET /0/public/Ticker?pair=ETHUSDT
// -> {"error":[],"result":{"ETHUSDT":{"a":["3521.46000","3","3.000"],"b":["3521.45000","1","1.000"],
//     "c":["3521.45000","0.01000000"],...}}}
// The result key may differ from the requested pair (XBTUSDT for BTCUSDT): take the first key.
// No timestamp: the caller records the receive time.
// Errors come in error[] with HTTP 200: "<severity><category>:<description>", severity E (error) or W (warning).
const envelope = z.object({ error: z.array(z.string()) });

const pairTicker = z.object({
  a: z.tuple([price], z.unknown()),
  b: z.tuple([price], z.unknown()),
  c: z.tuple([z.string()], z.unknown()).optional(),
});

const tickerBody = z.object({
  result: z.record(z.string(), pairTicker).transform((result, ctx) => {
    const [first] = Object.values(result);
    if (first === undefined) ctx.addIssue({ code: 'custom', message: 'expected at least one pair' });
    return first ?? z.NEVER;
  }),
});

const RATE_LIMIT_ERRORS = ['EAPI:Rate limit exceeded', 'EGeneral:Too many requests'];
export const KRAKEN_RATE_LIMIT_RETRY_AFTER_MS = 5000;

export const kraken: ExchangeAdapter = {
  name: 'kraken',
  defaultBaseUrl: 'https://api.kraken.com',

  tickerPath: (pair) => `/0/public/Ticker?${new URLSearchParams({ pair: `${pair.base}${pair.quote}` })}`,

  parseTicker(body) {
    const error = parseBody('kraken', envelope, body).error.find((entry) => !entry.startsWith('W'));
    if (error !== undefined) {
      if (RATE_LIMIT_ERRORS.some((limit) => error.startsWith(limit))) {
        throw new UpstreamRateLimitedError(
          KRAKEN_RATE_LIMIT_RETRY_AFTER_MS,
          undefined,
          `kraken: ${shorten(error)}`,
        );
      }
      const colon = error.indexOf(':');
      throw colon > 0
        ? new UpstreamBodyError(error.slice(0, colon), shorten(error.slice(colon + 1)))
        : new UpstreamBodyError(shorten(error), 'kraken error');
    }
    const ticker = parseBody('kraken', tickerBody, body).result;
    return toTicker('kraken', { bid: ticker.b[0], ask: ticker.a[0], last: ticker.c?.[0] });
  },

  describeErrorBody(body) {
    const errors = envelope.safeParse(body);
    return errors.success && errors.data.error.length > 0 ? shorten(errors.data.error.join('; ')) : undefined;
  },
};
