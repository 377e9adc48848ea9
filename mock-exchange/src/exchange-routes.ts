import type { IncomingMessage, ServerResponse } from 'node:http';
import { ONE, parseDecimal } from './decimal';
import {
  EXCHANGE_DEFINITIONS,
  genericStatusBody,
  jsonReply,
  type ExchangeDefinition,
  type Reply,
} from './exchanges';
import type { Fault } from './faults';
import { send } from './http-io';
import { quoteFor, type ExchangeName } from './quotes';
import type { MockState } from './state';

/** Binance charges this weight for bookTicker with a symbol. */
const BINANCE_BOOK_TICKER_WEIGHT = 2;

/** Serves `path` (below the /<exchange> prefix) of one exchange: its ticker route, with any injected fault. */
export async function handleExchangeRequest(
  req: IncomingMessage,
  res: ServerResponse,
  state: MockState,
  exchange: ExchangeName,
  path: string,
  query: URLSearchParams,
): Promise<void> {
  const definition = EXCHANGE_DEFINITIONS[exchange];
  const requested = definition.symbolFrom(path, query);
  if (requested === undefined) return send(res, jsonReply(404, { message: 'Not Found' }));
  if (req.method !== 'GET')
    return send(res, jsonReply(405, { message: 'Method Not Allowed' }, { allow: 'GET' }));

  state.counters[exchange] += 1;
  const fault = state.faults.take(exchange);
  if (fault?.type === 'outage') {
    // An RST rather than a FIN: the client sees ECONNRESET, as when an exchange's edge drops a connection.
    req.socket.resetAndDestroy();
    return;
  }
  if (fault?.type === 'latency') await state.delay(fault.ms);

  const reply = answer(definition, requested, req, state, fault);
  send(res, exchange === 'binance' ? withBinanceWeight(reply, state) : reply);
}

function answer(
  definition: ExchangeDefinition,
  requested: string,
  req: IncomingMessage,
  state: MockState,
  fault: Fault | undefined,
): Reply {
  const nowMs = state.now();
  switch (fault?.type) {
    case 'status':
      return jsonReply(fault.status, genericStatusBody(fault.status));
    case 'rate-limit': {
      const status = fault.status ?? 429;
      const headers =
        fault.retryAfterSeconds === undefined
          ? undefined
          : { 'retry-after': String(fault.retryAfterSeconds) };
      return jsonReply(status, definition.rateLimitBody(status, nowMs, fault.retryAfterSeconds), headers);
    }
    case 'body-error':
      return fault.kind === 'rate-limit' ? definition.bodyRateLimit(nowMs) : definition.bodyError(nowMs);
    case 'garbage': {
      // Half of what would have been sent: a body cut off mid-transfer, still labelled as JSON.
      const normal = normalAnswer(definition, requested, req, state, nowMs, undefined);
      return { status: 200, body: normal.body.slice(0, Math.floor(normal.body.length / 2)) };
    }
    default:
      return normalAnswer(definition, requested, req, state, nowMs, fault);
  }
}

function normalAnswer(
  definition: ExchangeDefinition,
  requested: string,
  req: IncomingMessage,
  state: MockState,
  nowMs: number,
  fault: Fault | undefined,
): Reply {
  const rejection = definition.rejectRequest?.(req.headers);
  if (rejection) return rejection;
  // hasOwn: a symbol such as "constructor" must not find Object.prototype.
  const pair = Object.hasOwn(definition.symbols, requested) ? definition.symbols[requested] : undefined;
  if (pair === undefined) return definition.unknownSymbol(nowMs);

  const factor = fault?.type === 'spike' ? (parseDecimal(fault.factor) ?? ONE) : ONE;
  state.sequence += 1;
  const body = definition.ticker({
    pair,
    quote: quoteFor(definition.name, state.prices.current(pair), factor),
    nowMs,
    sequence: state.sequence,
  });
  return jsonReply(200, fault?.type === 'schema' ? definition.breakShape(body) : body);
}

function withBinanceWeight(reply: Reply, state: MockState): Reply {
  const minute = Math.floor(state.now() / 60_000);
  const weight = state.binanceWeight;
  if (weight.minute !== minute) {
    weight.minute = minute;
    weight.used = 0;
  }
  weight.used += BINANCE_BOOK_TICKER_WEIGHT;
  const used = String(weight.used);
  return { ...reply, headers: { ...reply.headers, 'x-mbx-used-weight': used, 'x-mbx-used-weight-1m': used } };
}
