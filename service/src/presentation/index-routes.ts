import type { IncomingMessage, ServerResponse } from 'node:http';
import openapi from '../../openapi.json';
import { sendJson } from './json-response';
import { PRICE_ROUTE } from './routes';

/** GET /api/ (links to everything) and GET /api/openapi.json (the contract). */
export function createIndexRoutes(deps: {
  readonly pairs: readonly { slug: string; symbol: string }[];
  readonly common: readonly string[];
}) {
  const index = {
    name: 'ETH/USDT price service',
    version: openapi.info.version,
    links: {
      openapi: '/api/openapi.json',
      prices: deps.pairs.map((p) => ({ pair: p.symbol, href: PRICE_ROUTE.replace(':pair', p.slug) })),
      liveness: '/health/liveness',
      readiness: '/health/readiness',
    },
  };
  return {
    apiIndex: (req: IncomingMessage, res: ServerResponse) => sendJson(req, res, 200, index, deps.common),
    openapi: (req: IncomingMessage, res: ServerResponse) => sendJson(req, res, 200, openapi, deps.common),
  };
}
