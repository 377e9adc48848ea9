import { context, trace, type Span } from '@opentelemetry/api';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from '../observability/logger';
import type { RequestTracer } from '../observability/request-tracing';
import { addHeader, flushExtraHeaders } from './http-headers';
import { sendProblem } from './problem';
import type { RateLimit } from './rate-limit';
import type { RequestGuard } from './request-guard';
import { UNMATCHED, exemplarTraceId, type Observe, type ObserverFor } from './request-observer';
import { exactUrls, type Route } from './routes';
import type { Cors } from './security-headers';

export interface DispatchDeps {
  readonly pairs: readonly string[];
  readonly observerFor: ObserverFor;
  readonly isDraining: () => boolean;
  readonly tracer: RequestTracer;
  readonly logger: Logger;
  readonly common: readonly string[];
  readonly guard: RequestGuard;
  /** Undefined when CORS is off. */
  readonly cors: Cors | undefined;
  /** Undefined when rate limiting is off (RATE_LIMIT_REQUESTS=0). */
  readonly rateLimit: RateLimit | undefined;
}

/** An exact URL of the route table, resolved once at start: what a request to it needs, prebound. */
interface Target {
  readonly route: Route;
  readonly pair: string;
  readonly observeGet: Observe;
  readonly observeHead: Observe;
}

/**
 * The server's request listener. Everything it knows about routes comes from the route table, resolved at
 * start into one map of exact URLs: the fast path (GET/HEAD of a fast route's exact URL, answered by the
 * route's own handler without Express), the rate limit's exemptions, and the route label of a request
 * turned away before any route (413, 429), so every status is counted in the request histogram.
 */
export function createRequestListener(
  routes: readonly Route[],
  app: RequestListener,
  deps: DispatchDeps,
): RequestListener {
  const targets = new Map<string, Target>();
  for (const route of routes) {
    for (const [url, pair] of exactUrls(route, deps.pairs)) {
      const observeGet = deps.observerFor(route.path, 'GET');
      targets.set(url, { route, pair, observeGet, observeHead: deps.observerFor(route.path, 'HEAD') });
    }
  }
  const { guard, cors, rateLimit } = deps;
  // Headers of a request's own (CORS origin, rate limit state) exist only when either feature is on.
  const extraHeaders = cors !== undefined || rateLimit !== undefined;

  function observeTurnedAway(req: IncomingMessage, res: ServerResponse, started: number): void {
    const route = targets.get(req.url as string)?.route.path ?? UNMATCHED;
    deps.observerFor(route, req.method ?? 'UNKNOWN')(res.statusCode, (performance.now() - started) / 1000);
  }

  function dispatch(req: IncomingMessage, res: ServerResponse, started: number): void {
    const target = targets.get(req.url as string);
    const method = req.method;
    if (target === undefined || !target.route.fastPath || (method !== 'GET' && method !== 'HEAD')) {
      // Express writes through setHeader: the request's own headers go there first.
      if (extraHeaders) flushExtraHeaders(res);
      app(req, res);
      return;
    }
    const { route } = target;
    const observe = method === 'GET' ? target.observeGet : target.observeHead;
    // An open stream is a subscription, not a request to trace or time: only its refusals are observed.
    const span = route.longLived ? undefined : deps.tracer.start(req, route.path, started);
    if (route.longLived && extraHeaders) flushExtraHeaders(res);
    let status: number | Promise<number>;
    try {
      status =
        span === undefined
          ? route.handle(req, res, target.pair)
          : context.with(trace.setSpan(context.active(), span), () => route.handle(req, res, target.pair));
    } catch (error) {
      failed(req, res, route, observe, span, started, error);
      return;
    }
    // The price answer is synchronous: no closure is allocated for it (only an asynchronous handler's
    // settlement needs one).
    if (typeof status === 'number') done(route, observe, span, started, status);
    else {
      status.then(
        (code) => done(route, observe, span, started, code),
        (error: unknown) => failed(req, res, route, observe, span, started, error),
      );
    }
  }

  function done(route: Route, observe: Observe, span: Span | undefined, started: number, code: number): void {
    if (!(route.longLived && code === 200)) {
      observe(code, (performance.now() - started) / 1000, exemplarTraceId(span));
    }
    if (span !== undefined) deps.tracer.end(span, code);
  }

  // Whatever goes wrong in a handler must become a 500 for this request, never an uncaught exception that
  // takes the worker (and every connection on it) down.
  function failed(
    req: IncomingMessage,
    res: ServerResponse,
    route: Route,
    observe: Observe,
    span: Span | undefined,
    started: number,
    error: unknown,
  ): void {
    internalError(req, res, error);
    done(route, observe, span, started, 500);
  }

  function internalError(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    deps.logger.error('request failed', { error, path: req.url });
    if (res.headersSent) res.destroy();
    else {
      const detail = 'Something went wrong on our side; it has been logged.';
      sendProblem(res, { code: 'INTERNAL', detail, instance: req.url }, deps.common);
    }
  }

  return (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    // While draining, every response says `Connection: close`: the client reconnects (elsewhere, once the
    // listener has closed) and the server ends the connection itself right after the response, never under a
    // client that is sending its next request on it.
    if (deps.isDraining()) res.shouldKeepAlive = false;
    if (guard.reject(req, res)) {
      observeTurnedAway(req, res, started);
      return;
    }
    if (cors !== undefined) {
      const origin = cors.allowedOrigin(req);
      if (origin !== undefined) addHeader(res, 'Access-Control-Allow-Origin', origin);
    }
    // Only the exact paths of routes the table exempts (the probes): anything else under /health/ is a
    // 404 and counted like any other request.
    if (rateLimit !== undefined && targets.get(req.url as string)?.route.rateLimited !== false) {
      // Whatever fails, in the limiter or in the dispatch after it, is a 500 for this request only.
      rateLimit
        .admit(req, res)
        .then((admitted) => {
          if (admitted) dispatch(req, res, started);
          else observeTurnedAway(req, res, started);
        })
        .catch((error: unknown) => internalError(req, res, error));
      return;
    }
    dispatch(req, res, started);
  };
}
