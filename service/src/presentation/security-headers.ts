import helmet from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { rawHeader } from './http-headers';

/**
 * Security headers for a JSON API, as a flat [name, value, ...] list computed once per process: helmet is
 * run a single time against a recording response, so its choices (and its fixes in later versions) are kept
 * while no request pays for a middleware that rebuilds the same strings. The price handler writes the list
 * with its prebuilt bytes; Express responses and the parser's error responses get the same list.
 */
function captureHelmetHeaders(hsts: { maxAgeSeconds: number } | undefined): readonly string[] {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers.set(name, Array.isArray(value) ? value.join(', ') : String(value));
    },
    removeHeader(name: string) {
      headers.delete(name);
    },
  };
  helmet({
    // Nothing a browser renders comes from here: no source of any kind, and no framing.
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
    frameguard: { action: 'deny' },
    // CORP governs no-cors loads (<img>, <script>) only; CORS fetches are decided by CORS_ALLOW_ORIGINS.
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' },
    // Only when the operator says clients reach this service over TLS (HSTS_MAX_AGE_SECONDS): on plain HTTP
    // the header is meaningless, and a browser that once saw it for a host that later serves HTTP is locked
    // out. Subdomains are not this service's to speak for.
    strictTransportSecurity:
      hsts === undefined ? false : { maxAge: hsts.maxAgeSeconds, includeSubDomains: false },
  })(recorder as unknown as IncomingMessage, recorder as unknown as ServerResponse, () => undefined);
  return Object.freeze([...headers].flat());
}

/** The security headers for this deployment: helmet's, with HSTS only when configured. */
export function securityHeaders(hsts?: { maxAgeSeconds: number }): readonly string[] {
  return captureHelmetHeaders(hsts);
}

/** Without HSTS (the default). */
export const SECURITY_HEADERS: readonly string[] = captureHelmetHeaders(undefined);

/** Response headers a browser may read besides the CORS-safelisted ones. */
const EXPOSED = 'ETag, Retry-After, RateLimit, RateLimit-Policy';

export interface Cors {
  /** Headers every response carries while CORS is on (prebuilt, merged into the common header list). */
  readonly staticHeaders: readonly string[];
  /** The allowed Origin of this request to echo back, or undefined (`*` needs no echo). */
  allowedOrigin(req: IncomingMessage): string | undefined;
  /** Answers a CORS preflight (OPTIONS with Access-Control-Request-Method) and says whether it did. */
  preflight(req: IncomingMessage, res: ServerResponse): boolean;
}

/**
 * CORS for a read-only API: GET and HEAD only, no credentials. Off unless CORS_ALLOW_ORIGINS is set; `*`
 * only when configured so; otherwise the request's Origin is echoed only when it is on the allow-list (and
 * every response says `Vary: Origin`, so a shared cache never serves one origin's answer to another).
 */
export function createCors(
  allow: '*' | readonly string[] | undefined,
  security: readonly string[] = SECURITY_HEADERS,
): Cors | undefined {
  if (allow === undefined) return undefined;
  const any = allow === '*';
  const origins = new Set(any ? [] : allow);
  const staticHeaders = Object.freeze(
    any
      ? ['Access-Control-Allow-Origin', '*', 'Access-Control-Expose-Headers', EXPOSED]
      : ['Vary', 'Origin', 'Access-Control-Expose-Headers', EXPOSED],
  );
  const allowedOrigin = (req: IncomingMessage): string | undefined => {
    if (any) return undefined;
    const origin = rawHeader(req, 'origin');
    return origin !== undefined && origins.has(origin) ? origin : undefined;
  };
  return {
    staticHeaders,
    allowedOrigin,
    preflight(req, res) {
      if (req.method !== 'OPTIONS' || rawHeader(req, 'access-control-request-method') === undefined)
        return false;
      const origin = any ? '*' : allowedOrigin(req);
      if (origin === undefined) return false;
      res.writeHead(204, [
        ...security,
        ...(any ? [] : ['Vary', 'Origin']),
        'Access-Control-Allow-Origin',
        origin,
        'Access-Control-Allow-Methods',
        'GET, HEAD',
        'Access-Control-Allow-Headers',
        'If-None-Match, traceparent, tracestate',
        'Access-Control-Max-Age',
        '600',
        'Cache-Control',
        'no-store',
      ]);
      res.end();
      return true;
    },
  };
}
