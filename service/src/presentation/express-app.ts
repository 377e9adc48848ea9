import { context, trace } from '@opentelemetry/api';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../observability/logger';
import type { RequestTracer } from '../observability/request-tracing';
import { problemIsLogged, sendProblem } from './problem';
import { UNMATCHED, exemplarTraceId, type ObserverFor } from './request-observer';
import type { Route } from './routes';
import type { Cors } from './security-headers';

export interface ExpressAppDeps {
  readonly pairs: ReadonlySet<string>;
  readonly observerFor: ObserverFor;
  readonly tracer: RequestTracer;
  readonly logger: Logger;
  /** Headers every response carries: security headers and static CORS headers, built once. */
  readonly common: readonly string[];
  /** Undefined when CORS is off. */
  readonly cors: Cors | undefined;
}

/**
 * Every request the fast path does not take: the table's routes under any spelling of their URL, 405 with
 * the route's `Allow` for its other methods, 404 for the rest, and one error handler. It never listens.
 */
export function createExpressApp(routes: readonly Route[], deps: ExpressAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', false);
  const { common } = deps;

  app.use((req, res, next) => {
    for (let i = 0; i < common.length; i += 2) res.setHeader(common[i] as string, common[i + 1] as string);
    if (deps.cors !== undefined && deps.cors.preflight(req, res)) return;
    next();
  });

  // Duration and a sampled server span for every request Express handles (the fast path has its own).
  const longLived = new Set(routes.filter((r) => r.longLived).map((r) => r.path));
  app.use((req, res, next) => {
    const started = performance.now();
    const span = deps.tracer.start(req, 'express', started);
    // 'close', not 'finish': an aborted request is counted and its span ended too.
    res.once('close', () => {
      const path: unknown = req.route?.path;
      const route = typeof path === 'string' ? path : UNMATCHED;
      if (!(longLived.has(route) && res.statusCode === 200)) {
        const seconds = (performance.now() - started) / 1000;
        deps.observerFor(route, req.method)(res.statusCode, seconds, exemplarTraceId(span));
      }
      if (span !== undefined) {
        span.updateName(`${req.method} ${route}`);
        span.setAttribute('http.route', route);
        deps.tracer.end(span, res.statusCode);
      }
    });
    if (span === undefined) next();
    else context.with(trace.setSpan(context.active(), span), next);
  });

  for (const route of routes) {
    const takesPair = route.path.includes(':pair');
    app.get(route.path, async (req, res) => {
      let pair = '';
      if (takesPair) {
        pair = String(req.params.pair).toLowerCase();
        if (!deps.pairs.has(pair)) {
          const supported = [...deps.pairs].join(', ');
          const detail = `"${String(req.params.pair)}" is not a configured pair. Supported: ${supported}.`;
          sendProblem(res, { code: 'PAIR_NOT_SUPPORTED', detail, instance: req.originalUrl }, common);
          return;
        }
      }
      await route.handle(req, res, pair);
    });
    app.all(route.path, (req, res) => {
      const detail = `${req.method} is not allowed here; use ${route.allow}.`;
      sendProblem(res, { code: 'METHOD_NOT_ALLOWED', detail, instance: req.originalUrl }, common, {
        Allow: route.allow,
      });
    });
  }

  app.use((req, res) => {
    const detail = `No resource at ${req.path}. The API index is at /api/.`;
    sendProblem(res, { code: 'ROUTE_NOT_FOUND', detail, instance: req.originalUrl }, common);
  });

  // One error handler: log the detail, answer without it.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = (error as { status?: number }).status;
    const code = typeof status === 'number' && status >= 400 && status < 500 ? 'BAD_REQUEST' : 'INTERNAL';
    if (problemIsLogged(code)) deps.logger.error('unhandled error', { error, path: req.path });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const detail =
      code === 'BAD_REQUEST'
        ? 'The request could not be understood.'
        : 'Something went wrong on our side; it has been logged.';
    sendProblem(res, { code, detail, instance: req.originalUrl }, common);
  });

  return app;
}
