import type { IncomingMessage, ServerResponse } from 'node:http';
import openapi from '../../openapi.json';
import { PRICE_ROUTE } from './routes';
import { serveStaticAsset, staticAsset } from './static-asset';

/**
 * GET /api/ (links to everything) and GET /api/openapi.json (the contract). Both are fixed for the life of
 * the process: built once, with a strong ETag, revalidated by caches on every use (a deploy changes them).
 */
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
  const json = (value: unknown) =>
    staticAsset('application/json; charset=utf-8', Buffer.from(JSON.stringify(value)), deps.common);
  const indexAsset = json(index);
  const openapiAsset = json(openapi);
  return {
    apiIndex: (req: IncomingMessage, res: ServerResponse) => serveStaticAsset(req, res, indexAsset),
    openapi: (req: IncomingMessage, res: ServerResponse) => serveStaticAsset(req, res, openapiAsset),
  };
}
