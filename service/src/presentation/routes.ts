import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Answers one request and returns the status code it wrote (for the request metrics). `pair` is the
 * configured pair slug for routes with `:pair` (checked before the handler runs), '' for the others.
 */
export type RouteHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  pair: string,
) => number | Promise<number>;

/** One entry of the route table: everything about a route that is not its handler's own business. */
export interface Route {
  /** Express path template; also the `route` label of http_request_duration_seconds. */
  readonly path: string;
  /** Methods answered (HEAD wherever GET); every other method gets 405 with this as `Allow`. */
  readonly allow: 'GET, HEAD';
  readonly handle: RouteHandler;
  /** Counted against the client's rate limit; the probes are not (a kubelet refused would kill a healthy pod). */
  readonly rateLimited: boolean;
  /**
   * Answered before Express on its exact URLs (the path itself, or one per configured pair): Express's own
   * dispatch costs several times the price lookup. Other spellings of the URL (a query, another case) still
   * reach the same handler through Express.
   */
  readonly fastPath: boolean;
  /** Status codes whose latency series exist from the start, so SLO ratios are 0 rather than empty. */
  readonly knownStatuses?: readonly number[];
  /** An open 200 is a subscription held for minutes: its duration is no latency and is not observed. */
  readonly longLived?: boolean;
}

export const PRICE_ROUTE = '/api/v1/prices/:pair';
export const STREAM_ROUTE = '/api/v1/prices/:pair/stream';
export const BATCH_PRICE_ROUTE = '/api/v1/prices';
export const PRICE_AT_ROUTE = '/api/v1/prices/:pair/at/:time';
export const CANDLES_ROUTE = '/api/v1/prices/:pair/candles';
export const TWAP_ROUTE = '/api/v1/prices/:pair/twap';

export interface RouteHandlers {
  readonly livePage: {
    readonly paths: readonly string[];
    serve(req: IncomingMessage, res: ServerResponse, path: string): number;
  };
  readonly apiIndex: RouteHandler;
  readonly openapi: RouteHandler;
  readonly price: RouteHandler;
  readonly stream: RouteHandler;
  readonly batchPrice: RouteHandler;
  readonly priceAt: RouteHandler;
  readonly candles: RouteHandler;
  readonly twap: RouteHandler;
  readonly liveness: RouteHandler;
  readonly readiness: RouteHandler;
}

/**
 * The route table: Express's routes, the fast path's exact URLs, the 405 `Allow` lists, the rate limit's
 * exemptions and the request metrics' route labels are all built from it, once, at start. A new route is
 * one entry here plus its handler.
 */
export function createRoutes(h: RouteHandlers): readonly Route[] {
  const route = (path: string, handle: RouteHandler, options: Partial<Route> = {}): Route => ({
    path,
    allow: 'GET, HEAD',
    handle,
    rateLimited: true,
    fastPath: false,
    ...options,
  });
  return [
    ...h.livePage.paths.map((path) => route(path, (req, res) => h.livePage.serve(req, res, path))),
    route('/api/', h.apiIndex),
    route('/api/openapi.json', h.openapi),
    route(PRICE_ROUTE, h.price, { fastPath: true, knownStatuses: [200, 304, 500, 503] }),
    route(STREAM_ROUTE, h.stream, { fastPath: true, longLived: true }),
    route(BATCH_PRICE_ROUTE, h.batchPrice, { knownStatuses: [200, 304, 400, 503] }),
    route(PRICE_AT_ROUTE, h.priceAt, { knownStatuses: [200, 304, 400, 404, 503] }),
    route(CANDLES_ROUTE, h.candles, { knownStatuses: [200, 304, 400, 404, 503] }),
    route(TWAP_ROUTE, h.twap, { knownStatuses: [200, 304, 400, 404, 503] }),
    route('/health/liveness', h.liveness, { rateLimited: false }),
    route('/health/readiness', h.readiness, { rateLimited: false }),
  ];
}

/** The exact URLs of a route: its path, or with `:pair` one URL per configured pair (URL → pair slug). */
export function exactUrls(route: Route, pairs: readonly string[]): Map<string, string> {
  if (!route.path.includes(':pair')) return new Map([[route.path, '']]);
  return new Map(pairs.map((pair) => [route.path.replace(':pair', pair), pair]));
}
