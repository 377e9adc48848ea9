import { isIP } from 'node:net';
import { composite, int, raw, type ParseContext } from '../setting';
import { splitList } from './lists';

const TRUSTED_PROXY_HOPS = int({
  env: 'TRUSTED_PROXY_HOPS',
  min: 0,
  max: 10,
  default: 0,
  doc: '`0`: the client is the TCP peer; `N`: the N-th `X-Forwarded-For` entry from the right (N trusted proxies in front append to it), read only from proxies inside `TRUSTED_PROXY_CIDRS` (required when `N` > 0)',
});
const TRUSTED_PROXY_CIDRS = raw({
  env: 'TRUSTED_PROXY_CIDRS',
  doc: 'comma-separated CIDRs or addresses of the trusted proxies; an `X-Forwarded-For` entry is used only while the TCP peer and each hop skipped from the right are inside them, otherwise the peer is the client',
  example: '10.0.0.0/8,fd00::/8',
});
const CORS_ALLOW_ORIGINS = raw({
  env: 'CORS_ALLOW_ORIGINS',
  doc: 'browser origins allowed to read responses (CORS): unset = none, `*` = any, or a comma-separated list of origins',
  example: 'https://app.example.com,http://localhost:3000',
});
const STREAM_MAX_SUBSCRIBERS_PER_WORKER = int({
  env: 'STREAM_MAX_SUBSCRIBERS_PER_WORKER',
  min: 1,
  max: 1_000_000,
  default: 8000,
  doc: 'open price streams one worker holds; more are answered 503 (`MAX_CONNECTIONS_PER_WORKER` caps them too)',
});
const STREAM_MAX_SUBSCRIBERS_PER_CLIENT = int({
  env: 'STREAM_MAX_SUBSCRIBERS_PER_CLIENT',
  min: 1,
  max: 100_000,
  default: 20,
  doc: 'open streams one client (as the rate limit identifies it) may hold per worker; more are answered 429',
});

/** What one client may hold or send (docs/security.md): Config.limits, .rateLimit, .corsAllowOrigins, .stream. */
export const clientSettings = {
  limits: {
    headersTimeoutMs: int({
      env: 'HEADERS_TIMEOUT_MS',
      min: 100,
      max: 120_000,
      default: 10_000,
      unit: 'ms',
      doc: "a request's headers must arrive within this of the connection (or of the request's first byte), else `408` and the connection is closed (slowloris); checked every second",
    }),
    requestTimeoutMs: int({
      env: 'REQUEST_TIMEOUT_MS',
      min: 100,
      max: 600_000,
      default: 30_000,
      unit: 'ms',
      doc: 'the whole request (headers and body) within this; at least `HEADERS_TIMEOUT_MS`',
    }),
    maxHeaderBytes: int({
      env: 'MAX_HEADER_BYTES',
      min: 1024,
      max: 1_048_576,
      default: 16_384,
      unit: 'bytes',
      doc: 'request line plus headers; more is answered `431`',
    }),
    maxBodyBytes: int({
      env: 'MAX_BODY_BYTES',
      min: 0,
      max: 1_048_576,
      default: 1024,
      unit: 'bytes',
      doc: 'the API takes no body: a declared `Content-Length` above this is answered `413`, unread; a chunked body closes the connection after the response',
    }),
    maxConnectionsPerWorker: int({
      env: 'MAX_CONNECTIONS_PER_WORKER',
      min: 1,
      max: 1_000_000,
      default: 10_000,
      doc: 'connections beyond this per worker are closed on accept (`http_connections_dropped_total`); lowered at start to fit `ulimit -n`',
    }),
  },
  rateLimit: {
    requests: int({
      env: 'RATE_LIMIT_REQUESTS',
      min: 0,
      max: 1_000_000_000,
      default: 0,
      doc: 'per-client requests per window on `/api/` (never the health probes); `0` = off. In Redis when Redis is configured (one budget across workers and replicas), else per worker, at most 100,000 clients per window (past that a new client is let through, `rate_limit_decisions_total{result="overflow"}`); fails open when Redis is down (`result="error"`); IPv6 clients count per /64',
    }),
    windowSeconds: int({
      env: 'RATE_LIMIT_WINDOW_SECONDS',
      min: 1,
      max: 86_400,
      default: 60,
      unit: 's',
      doc: "the rate limit's fixed window",
    }),
    trustedProxyHops: TRUSTED_PROXY_HOPS,
    trustedProxyCidrs: composite([TRUSTED_PROXY_CIDRS], parseCidrs),
  },
  corsAllowOrigins: composite([CORS_ALLOW_ORIGINS], parseCorsOrigins),
  stream: {
    maxSubscribersPerWorker: STREAM_MAX_SUBSCRIBERS_PER_WORKER,
    maxSubscribersPerClient: STREAM_MAX_SUBSCRIBERS_PER_CLIENT,
    heartbeatMs: int({
      env: 'STREAM_HEARTBEAT_MS',
      min: 1000,
      max: 300_000,
      default: 15_000,
      unit: 'ms',
      doc: 'a comment line this often keeps proxies from closing an idle stream; shorter than `STREAM_MAX_LIFETIME_MS`',
    }),
    maxLifetimeMs: int({
      env: 'STREAM_MAX_LIFETIME_MS',
      min: 10_000,
      max: 86_400_000,
      default: 3_600_000,
      unit: 'ms',
      doc: 'a stream is closed after this long; clients reconnect with `Last-Event-ID` (spreads load on deploys)',
    }),
    retryMs: int({
      env: 'STREAM_RETRY_MS',
      min: 100,
      max: 60_000,
      default: 2000,
      unit: 'ms',
      doc: 'the `retry:` advice sent to stream clients: how long to wait before reconnecting',
    }),
    maxBufferedBytes: int({
      env: 'STREAM_MAX_BUFFERED_BYTES',
      min: 4096,
      max: 16_777_216,
      default: 65_536,
      unit: 'bytes',
      doc: 'a subscriber with more unsent bytes than this is dropped (it does not read), not buffered without limit',
    }),
  },
};

/** Comma-separated CIDRs or bare addresses, each checked; kept as `address/prefix`, lower case. */
function parseCidrs({ env, problem }: ParseContext): readonly string[] {
  const cidrs: string[] = [];
  for (const item of splitList(env.TRUSTED_PROXY_CIDRS ?? '')) {
    const slash = item.indexOf('/');
    const address = (slash === -1 ? item : item.slice(0, slash)).toLowerCase();
    const family = isIP(address);
    const max = family === 6 ? 128 : 32;
    const prefixText = slash === -1 ? String(max) : item.slice(slash + 1);
    const prefix = Number(prefixText);
    if (family === 0 || !/^(0|[1-9]\d{0,2})$/.test(prefixText) || prefix > max) {
      problem(`TRUSTED_PROXY_CIDRS: "${item}" is not an address or CIDR (like 10.0.0.0/8 or 2001:db8::/32)`);
      continue;
    }
    const cidr = `${address}/${prefix}`;
    if (!cidrs.includes(cidr)) cidrs.push(cidr);
  }
  return cidrs;
}

/**
 * `*`, or a comma-separated list of origins as browsers send them (`scheme://host[:port]`, no path): the
 * Origin header is compared byte for byte, so anything else could never match and is a mistake.
 */
function parseCorsOrigins({ env, problem }: ParseContext): '*' | readonly string[] | undefined {
  const value = env.CORS_ALLOW_ORIGINS;
  if (value === undefined || value.trim() === '') return undefined;
  const items = splitList(value);
  if (items.includes('*')) {
    if (items.length > 1) problem('CORS_ALLOW_ORIGINS: "*" cannot be combined with origins');
    return '*';
  }
  const origins: string[] = [];
  for (const item of items) {
    let origin: string | undefined;
    try {
      const url = new URL(item);
      if ((url.protocol === 'http:' || url.protocol === 'https:') && url.origin === item) origin = url.origin;
    } catch {
      // reported below
    }
    if (origin === undefined) {
      problem(
        `CORS_ALLOW_ORIGINS: "${item}" is not an origin like https://app.example.com (scheme, host, optional port; lower case, no path or trailing slash)`,
      );
    } else if (!origins.includes(origin)) origins.push(origin);
  }
  return origins;
}
