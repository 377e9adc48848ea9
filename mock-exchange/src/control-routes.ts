import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatTrimmed, ONE, parseDecimal } from './decimal';
import { jsonReply, type Reply } from './exchanges';
import { parseFault } from './faults';
import { readJsonBody, send } from './http-io';
import type { PriceState } from './price-walk';
import {
  EXCHANGES,
  isExchangeName,
  PAIRS,
  parsePairSymbol,
  type ExchangeName,
  type PairSymbol,
} from './quotes';
import type { MockState } from './state';

/** Below this a pinned mid minus the widest half-spread could reach zero. */
const MIN_PINNED_MID = 10n * ONE;

const badRequest = (message: string) => jsonReply(400, { error: message });
const methodNotAllowed = (allow: string) => jsonReply(405, { error: 'method not allowed' }, { allow });

/** Serves /__control`path`. */
export async function handleControlRequest(
  req: IncomingMessage,
  res: ServerResponse,
  state: MockState,
  path: string,
  query: URLSearchParams,
): Promise<void> {
  send(res, await route(req, state, path, query));
}

async function route(
  req: IncomingMessage,
  state: MockState,
  path: string,
  query: URLSearchParams,
): Promise<Reply> {
  const method = req.method ?? 'GET';
  if (path === '/health') return method === 'GET' ? jsonReply(200, { ok: true }) : methodNotAllowed('GET');
  if (path === '/counters')
    return method === 'GET' ? jsonReply(200, state.counters) : methodNotAllowed('GET');
  if (path === '/reset') {
    if (method !== 'POST') return methodNotAllowed('POST');
    state.reset();
    return jsonReply(200, { ok: true });
  }
  if (path === '/faults')
    return method === 'GET' ? jsonReply(200, state.faults.list()) : methodNotAllowed('GET');
  if (path.startsWith('/faults/')) return faultRoute(req, state, path.slice('/faults/'.length));
  if (path === '/price') {
    if (method === 'GET') return getPrice(state, query.get('pair'));
    if (method === 'PUT') return putPrice(req, state);
    return methodNotAllowed('GET, PUT');
  }
  return jsonReply(404, { error: 'unknown control route' });
}

async function faultRoute(req: IncomingMessage, state: MockState, target: string): Promise<Reply> {
  let name: string;
  try {
    name = decodeURIComponent(target);
  } catch {
    return badRequest('malformed exchange name');
  }
  if (name !== '*' && !isExchangeName(name)) {
    return badRequest(`unknown exchange "${name}"; expected one of ${EXCHANGES.join(', ')} or *`);
  }
  const exchanges: readonly ExchangeName[] = name === '*' ? EXCHANGES : [name as ExchangeName];

  if (req.method === 'DELETE') {
    for (const exchange of exchanges) state.faults.clear(exchange);
    return jsonReply(200, state.faults.list());
  }
  if (req.method !== 'PUT') return methodNotAllowed('PUT, DELETE');

  const body = await readJsonBody(req);
  if ('error' in body) return badRequest(body.error);
  const parsed = parseFault(body.value);
  if ('error' in parsed) return badRequest(parsed.error);
  for (const exchange of exchanges) state.faults.set(exchange, parsed.fault);
  return jsonReply(200, state.faults.list());
}

const describePrice = ({ pair, mid, walking }: PriceState) => ({
  pair,
  mid: formatTrimmed(mid),
  walk: walking,
});

function getPrice(state: MockState, pairText: string | null): Reply {
  if (pairText === null)
    return jsonReply(200, { prices: PAIRS.map((pair) => describePrice(state.prices.describe(pair))) });
  const pair = parsePairSymbol(pairText);
  if (!pair) return badRequest(`unknown pair "${pairText}"; expected one of ${PAIRS.join(', ')}`);
  return jsonReply(200, describePrice(state.prices.describe(pair)));
}

const PRICE_FIELDS = new Set(['pair', 'mid', 'walk']);

/**
 * {pair, mid, walk?}: sets the reference mid, pinned unless walk is true.
 * {pair?, walk}: stops or resumes the walk of one pair, or of all of them without a pair.
 */
async function putPrice(req: IncomingMessage, state: MockState): Promise<Reply> {
  const body = await readJsonBody(req);
  if ('error' in body) return badRequest(body.error);
  const input = body.value;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return badRequest('price body must be a JSON object');
  }
  const fields = input as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !PRICE_FIELDS.has(key));
  if (unknown.length > 0) return badRequest(`unknown field(s): ${unknown.join(', ')}`);
  if (fields.walk !== undefined && typeof fields.walk !== 'boolean')
    return badRequest('"walk" must be a boolean');

  let pair: PairSymbol | undefined;
  if (fields.pair !== undefined) {
    pair = typeof fields.pair === 'string' ? parsePairSymbol(fields.pair) : undefined;
    if (!pair) return badRequest(`"pair" must be one of ${PAIRS.join(', ')}`);
  }
  const walk = fields.walk as boolean | undefined;

  if (fields.mid !== undefined) {
    // A JSON number would already have been through a float: only decimal strings are exact.
    const mid = typeof fields.mid === 'string' ? parseDecimal(fields.mid) : undefined;
    if (mid === undefined || mid < MIN_PINNED_MID) {
      return badRequest(
        '"mid" must be a decimal string of at least "10" with at most 8 decimals, such as "3500.00"',
      );
    }
    if (!pair) return badRequest('"pair" is required with "mid"');
    state.prices.pin(pair, mid, walk ?? false);
    return jsonReply(200, describePrice(state.prices.describe(pair)));
  }

  if (walk === undefined)
    return badRequest('give "mid" to set the price or "walk" to stop or resume the walk');
  const pairs = pair ? [pair] : PAIRS;
  for (const each of pairs) state.prices.setWalking(each, walk);
  return jsonReply(200, { prices: pairs.map((each) => describePrice(state.prices.describe(each))) });
}
