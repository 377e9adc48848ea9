import { TraceFlags, context, trace, type Span } from '@opentelemetry/api';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { PriceReader } from '../application/price-reader';
import { statusAt, type FreshnessRules } from '../application/price-snapshot';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import openapi from '../../openapi.json';
import { PRICE_ROUTE, type PriceHandler } from './price-route';
import { LIVE_PAGE_PATHS, createLivePage } from './live-page';
import type { PriceStream } from './price-stream';
import { STREAM_ROUTE } from './price-stream';
import { sendProblem } from './problem';
import { addHeader, flushExtraHeaders } from './http-headers';
import type { RateLimit } from './rate-limit';
import type { RequestGuard } from './request-guard';
import type { RequestTracer } from '../observability/request-tracing';
import type { Cors } from './security-headers';

export interface AppDeps {
  readonly priceHandler: PriceHandler;
  readonly stream: PriceStream;
  readonly reader: PriceReader;
  readonly freshness: FreshnessRules;
  readonly pairs: readonly { slug: string; symbol: string }[];
  readonly sharedCacheStatus: () => 'up' | 'down' | 'disabled';
  readonly isDraining: () => boolean;
  readonly metrics: Pick<Metrics, 'httpObserver'>;
  readonly tracer: RequestTracer;
  readonly logger: Logger;
  /** Headers every response carries: security headers and static CORS headers, built once. */
  readonly common: readonly string[];
  readonly guard: RequestGuard;
  /** Undefined when CORS is off. */
  readonly cors: Cors | undefined;
  /** Undefined when rate limiting is off (RATE_LIMIT_REQUESTS=0). */
  readonly rateLimit: RateLimit | undefined;
}

const PRICE_PREFIX = '/api/v1/prices/';
const ALLOWED = 'GET, HEAD';
/** The probes' paths, exempt from the rate limit. */
const PROBE_PATHS: ReadonlySet<string> = new Set(['/health/liveness', '/health/readiness']);

/**
 * The trace id to keep as the latency exemplar: only for a span that is recorded and sampled (exported).
 * Called before the span ends: an ended span no longer records.
 */
function exemplarTraceId(span: Span | undefined): string | undefined {
  if (span === undefined || !span.isRecording()) return undefined;
  const spanContext = span.spanContext();
  return (spanContext.traceFlags & TraceFlags.SAMPLED) === 0 ? undefined : spanContext.traceId;
}

/**
 * The HTTP application: routes, 404/405, one error handler. It never listens; worker.ts (or a test) puts it
 * behind a server.
 */
export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', false);
  const observers = new Map<string, ReturnType<AppDeps['metrics']['httpObserver']>>();
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  /** p99 since the previous liveness probe, not since start: a stall an hour ago says nothing now. */
  const loopDelayP99Ms = () => {
    const p99 = Number((loopDelay.percentile(99) / 1e6).toFixed(1));
    loopDelay.reset();
    return p99;
  };

  const common = deps.common;
  app.use((req, res, next) => {
    for (let i = 0; i < common.length; i += 2) res.setHeader(common[i] as string, common[i + 1] as string);
    if (deps.cors !== undefined && deps.cors.preflight(req, res)) return;
    next();
  });

  // Duration and a sampled server span for every request Express handles (the fast path has its own).
  app.use((req, res, next) => {
    const started = performance.now();
    const span = deps.tracer.start(req, 'express', started);
    // 'close', not 'finish': an aborted request is counted and its span ended too.
    res.once('close', () => {
      // The route template, never the raw URL: label values must stay a small, fixed set.
      const path: unknown = req.route?.path;
      const route = typeof path === 'string' ? path : 'unmatched';
      // An open stream lasts minutes to hours: its duration says nothing about latency (its own metrics do).
      if (route === STREAM_ROUTE && res.statusCode === 200) {
        if (span !== undefined) deps.tracer.end(span, 200);
        return;
      }
      const key = `${route} ${req.method}`;
      let observe = observers.get(key);
      if (observe === undefined) {
        observe = deps.metrics.httpObserver(route, req.method);
        observers.set(key, observe);
      }
      observe(res.statusCode, (performance.now() - started) / 1000, exemplarTraceId(span));
      if (span !== undefined) {
        span.updateName(`${req.method} ${route}`);
        span.setAttribute('http.route', route);
        deps.tracer.end(span, res.statusCode);
      }
    });
    if (span === undefined) next();
    else context.with(trace.setSpan(context.active(), span), next);
  });

  // The live page follows the first configured pair.
  const livePage = createLivePage({ pair: deps.pairs[0] as { slug: string; symbol: string }, common });
  for (const path of LIVE_PAGE_PATHS) app.get(path, (req, res) => livePage.serve(req, res, path));

  app.get('/api/', (_req, res) => {
    res.json({
      name: 'ETH/USDT price service',
      version: openapi.info.version,
      links: {
        openapi: '/api/openapi.json',
        prices: deps.pairs.map((p) => ({ pair: p.symbol, href: `${PRICE_PREFIX}${p.slug}` })),
        liveness: '/health/liveness',
        readiness: '/health/readiness',
      },
    });
  });
  app.get('/api/openapi.json', (_req, res) => {
    res.json(openapi);
  });

  const pairNotSupported = (req: Request, res: Response) => {
    sendProblem(
      res,
      {
        status: 404,
        code: 'PAIR_NOT_SUPPORTED',
        title: 'Pair not supported',
        detail: `"${String(req.params.pair)}" is not a configured pair. Supported: ${deps.pairs.map((p) => p.slug).join(', ')}.`,
        instance: req.originalUrl,
      },
      common,
    );
  };
  app.get(PRICE_ROUTE, async (req, res) => {
    const pair = String(req.params.pair).toLowerCase();
    if (!deps.priceHandler.pairs.has(pair)) return pairNotSupported(req, res);
    await deps.priceHandler.handle(req, res, pair);
  });
  app.get(STREAM_ROUTE, async (req, res) => {
    const pair = String(req.params.pair).toLowerCase();
    if (!deps.priceHandler.pairs.has(pair)) return pairNotSupported(req, res);
    await deps.stream.handle(req, res, pair);
  });

  app.get('/health/liveness', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({
      status: 'alive',
      uptimeSeconds: Math.round(process.uptime()),
      eventLoopDelayP99Ms: loopDelayP99Ms(),
    });
  });

  app.get('/health/readiness', async (_req, res) => {
    const now = Date.now();
    const pairs: Record<string, unknown> = {};
    let ready = !deps.isDraining();
    for (const pair of deps.pairs) {
      // peek, not current: probes are not traffic and must not count as cache hits.
      const snapshot = deps.reader.peek(pair.slug) ?? (await deps.reader.load(pair.slug));
      const status = snapshot === undefined ? 'unavailable' : statusAt(snapshot, now, deps.freshness);
      if (status === 'unavailable') ready = false;
      pairs[pair.slug] = {
        status,
        ageMs: snapshot?.price === undefined ? undefined : now - snapshot.price.timestampMs,
        quorum: snapshot?.quorum,
        sources: snapshot
          ? Object.fromEntries(
              snapshot.sources.map((s) => [s.exchange, s.error ? `${s.state} (${s.error})` : s.state]),
            )
          : undefined,
      };
    }
    // Redis is reported, never required: prices are still served from L1 and upstream without it.
    res
      .status(ready ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json({
        status: ready ? 'ready' : deps.isDraining() ? 'draining' : 'not_ready',
        pairs,
        redis: deps.sharedCacheStatus(),
      });
  });

  // Known paths with another method: 405 with Allow.
  const methodNotAllowed = (req: Request, res: Response) => {
    sendProblem(
      res,
      {
        status: 405,
        code: 'METHOD_NOT_ALLOWED',
        title: 'Method not allowed',
        detail: `${req.method} is not allowed here; use ${ALLOWED}.`,
        instance: req.originalUrl,
      },
      common,
      { Allow: ALLOWED },
    );
  };
  for (const path of [
    ...LIVE_PAGE_PATHS,
    '/api/',
    '/api/openapi.json',
    PRICE_ROUTE,
    STREAM_ROUTE,
    '/health/liveness',
    '/health/readiness',
  ]) {
    app.all(path, methodNotAllowed);
  }

  app.use((req, res) => {
    sendProblem(
      res,
      {
        status: 404,
        code: 'ROUTE_NOT_FOUND',
        title: 'Not found',
        detail: `No resource at ${req.path}. The API index is at /api/.`,
        instance: req.originalUrl,
      },
      common,
    );
  });

  // One error handler: log the detail, answer without it.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = (error as { status?: number }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      sendProblem(
        res,
        {
          status,
          code: 'BAD_REQUEST',
          title: 'Bad request',
          detail: 'The request could not be understood.',
          instance: req.originalUrl,
        },
        common,
      );
      return;
    }
    deps.logger.error('unhandled error', { error, path: req.path });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendProblem(
      res,
      {
        status: 500,
        code: 'INTERNAL',
        title: 'Internal error',
        detail: 'Something went wrong on our side; it has been logged.',
        instance: req.originalUrl,
      },
      common,
    );
  });

  return app;
}

/**
 * The server's request listener. Express's own dispatch costs several times the price lookup, so exact
 * price URLs (GET/HEAD, no query) are answered directly by the same handler Express mounts for every other
 * form of the URL; everything else goes to Express.
 */
export function createRequestListener(
  app: express.Express,
  deps: Pick<
    AppDeps,
    | 'priceHandler'
    | 'stream'
    | 'metrics'
    | 'isDraining'
    | 'tracer'
    | 'logger'
    | 'common'
    | 'guard'
    | 'cors'
    | 'rateLimit'
  >,
): RequestListener {
  const fastPaths = new Map<string, string>();
  for (const pair of deps.priceHandler.pairs) fastPaths.set(`${PRICE_PREFIX}${pair}`, pair);
  const observeGet = deps.metrics.httpObserver(PRICE_ROUTE, 'GET');
  const observeHead = deps.metrics.httpObserver(PRICE_ROUTE, 'HEAD');
  const streamPaths = new Map<string, string>();
  for (const pair of deps.priceHandler.pairs) streamPaths.set(`${PRICE_PREFIX}${pair}/stream`, pair);
  const observeStream = deps.metrics.httpObserver(STREAM_ROUTE, 'GET');
  const { guard, cors, rateLimit } = deps;
  // Headers of a request's own (CORS origin, rate limit state) exist only when either feature is on.
  const extraHeaders = cors !== undefined || rateLimit !== undefined;

  function dispatch(req: IncomingMessage, res: ServerResponse, started: number): void {
    const pair = fastPaths.get(req.url as string);
    if (pair === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) {
      // Checked only once the price URLs have missed: the price route pays nothing for it.
      const streamPair = streamPaths.get(req.url as string);
      // Express and the stream write through setHeader: the request's own headers go there first.
      if (extraHeaders) flushExtraHeaders(res);
      if (streamPair !== undefined && (req.method === 'GET' || req.method === 'HEAD')) {
        openStream(req, res, streamPair, started);
        return;
      }
      app(req, res);
      return;
    }
    const observe = req.method === 'GET' ? observeGet : observeHead;
    const span = deps.tracer.start(req, PRICE_ROUTE, started);
    const done = (code: number) => {
      observe(code, (performance.now() - started) / 1000, exemplarTraceId(span));
      if (span !== undefined) deps.tracer.end(span, code);
    };
    // Whatever goes wrong here must become a 500 for this request, never an uncaught exception that takes
    // the worker (and every connection on it) down.
    const failed = (error: unknown) => {
      internalError(req, res, error);
      done(500);
    };
    let status: number | Promise<number>;
    try {
      status =
        span === undefined
          ? deps.priceHandler.handle(req, res, pair)
          : context.with(trace.setSpan(context.active(), span), () =>
              deps.priceHandler.handle(req, res, pair),
            );
    } catch (error) {
      failed(error);
      return;
    }
    if (typeof status === 'number') done(status);
    else status.then(done, failed);
  }

  /**
   * Exact stream URLs skip Express too: a subscriber is held for minutes, and nothing Express attaches to
   * its request and response should be held with it. Only refusals are observed: an open stream's duration
   * is its lifetime, not a latency.
   */
  function openStream(req: IncomingMessage, res: ServerResponse, pair: string, started: number): void {
    const observe = (code: number) => {
      if (code !== 200) observeStream(code, (performance.now() - started) / 1000);
    };
    let status: number | Promise<number>;
    try {
      status = deps.stream.handle(req, res, pair);
    } catch (error) {
      internalError(req, res, error);
      observe(500);
      return;
    }
    if (typeof status === 'number') observe(status);
    else
      status.then(observe, (error: unknown) => {
        internalError(req, res, error);
        observe(500);
      });
  }

  function internalError(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    deps.logger.error('price request failed', { error });
    if (res.headersSent) res.destroy();
    else
      sendProblem(
        res,
        {
          status: 500,
          code: 'INTERNAL',
          title: 'Internal error',
          detail: 'Something went wrong on our side; it has been logged.',
          instance: req.url,
        },
        deps.common,
      );
  }

  return (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    // While draining, every response says `Connection: close`: the client reconnects (elsewhere, once the
    // listener has closed) and the server ends the connection itself right after the response, never under a
    // client that is sending its next request on it.
    if (deps.isDraining()) res.shouldKeepAlive = false;
    if (guard.reject(req, res)) return;
    if (cors !== undefined) {
      const origin = cors.allowedOrigin(req);
      if (origin !== undefined) addHeader(res, 'Access-Control-Allow-Origin', origin);
    }
    // Probes are never limited: a kubelet refused by the limiter would restart a healthy pod. Only the
    // probes' exact paths: anything else under /health/ is a 404 and counted like any other request.
    if (rateLimit !== undefined && !PROBE_PATHS.has(req.url as string)) {
      // Whatever fails, in the limiter or in the dispatch after it, is a 500 for this request only.
      rateLimit
        .admit(req, res)
        .then((admitted) => {
          if (admitted) dispatch(req, res, started);
        })
        .catch((error: unknown) => internalError(req, res, error));
      return;
    }
    dispatch(req, res, started);
  };
}
