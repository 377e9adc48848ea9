import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { parsePair, type Pair } from './domain/pair';
import type { RedisNode, RedisTopology } from './infrastructure/redis/redis-client';
import { EXCHANGES, type ExchangeName } from './infrastructure/sources/exchange-adapter';

/**
 * Every setting comes from the environment, is parsed once here before anything starts, and is frozen.
 * A bad value never gets as far as listening: loadConfig throws a ConfigError listing every problem.
 */
export interface Config {
  readonly host: string;
  readonly port: number;
  readonly metricsPort: number;
  /** Accept queue of the API listener; the kernel caps it at net.core.somaxconn. */
  readonly listenBacklog: number;
  /** Worker processes forked by the cluster primary; 0 runs everything in one process (no cluster). */
  readonly workers: number;
  readonly logLevel: 'error' | 'warn' | 'info' | 'debug';
  readonly serviceName: string;
  readonly redis: {
    /** REDIS_URL: the single-node URL, undefined with Sentinel or Cluster (or no Redis). */
    readonly url: string | undefined;
    /** Where Redis is, whichever way it was configured; undefined = no Redis (L1 only). */
    readonly topology: RedisTopology | undefined;
    readonly keyPrefix: string;
    readonly commandTimeoutMs: number;
  };
  readonly pairs: readonly Pair[];
  readonly sources: readonly { readonly name: ExchangeName; readonly baseUrl: string | undefined }[];
  readonly price: {
    /** A price is fresh for this long after its (source) timestamp: CACHE_TTL. */
    readonly freshnessMs: number;
    /** Past this age nothing is served: 503 with Retry-After. */
    readonly maxStalenessMs: number;
    readonly refreshIntervalMs: number;
    readonly minQuorum: number;
    readonly maxDeviationBps: number;
    readonly maxSourceAgeMs: number;
  };
  readonly upstream: {
    readonly timeoutMs: number;
    readonly retries: number;
    readonly retryBaseDelayMs: number;
    readonly banCooldownMs: number;
    readonly breakerErrorThresholdPercent: number;
    readonly breakerVolumeThreshold: number;
    readonly breakerResetMs: number;
  };
  readonly shutdownTimeoutMs: number;
  /**
   * On SIGTERM, how long to keep serving with readiness already 503 before closing the listener, so a load
   * balancer or Kubernetes stops sending traffic before connections are refused.
   */
  readonly drainDelayMs: number;
  /**
   * Once the listener has closed, how long an idle keep-alive connection (never yet told `Connection:
   * close`) may still bring a request before it is closed: closing it at once races a client sending one.
   */
  readonly drainIdleGraceMs: number;
  /** Incoming requests traced per second and process when the caller sent no traceparent. */
  readonly traceRequestsPerSecond: number;
  /** Limits on what one client connection may hold or send (docs/security.md). */
  readonly limits: {
    /** Time for a request's headers to arrive, counted from the connection or the request's first byte. */
    readonly headersTimeoutMs: number;
    /** Time for a whole request (headers and body) to arrive. */
    readonly requestTimeoutMs: number;
    /** Bytes of the request line plus headers; more is answered 431. */
    readonly maxHeaderBytes: number;
    /** A request body declared larger than this is answered 413 without being read. */
    readonly maxBodyBytes: number;
    /** Open connections per worker; more are closed as soon as they are accepted. */
    readonly maxConnectionsPerWorker: number;
  };
  /** Per-client rate limit on /api/ (health probes are never limited). `requests` 0 = off. */
  readonly rateLimit: {
    readonly requests: number;
    readonly windowSeconds: number;
    /**
     * 0: the client is the TCP peer. N: the N-th address from the right of X-Forwarded-For, as added by the
     * N proxies in front that are trusted to append it.
     */
    readonly trustedProxyHops: number;
    /**
     * The proxies X-Forwarded-For is taken from, as CIDRs (a bare address is /32 or /128): an entry is used
     * only while the TCP peer, and each hop skipped from the right, is inside one. Required when hops > 0.
     */
    readonly trustedProxyCidrs: readonly string[];
  };
  /** Origins allowed to read responses in a browser (CORS): undefined = none, '*' = any, or a list. */
  readonly corsAllowOrigins: '*' | readonly string[] | undefined;
  /** The server-sent events stream of price changes (GET /api/v1/prices/{pair}/stream). */
  readonly stream: {
    /** Open streams one worker holds; more are answered 503 (MAX_CONNECTIONS_PER_WORKER caps them too). */
    readonly maxSubscribersPerWorker: number;
    /** Open streams one client (as identified for the rate limit) may hold per worker; more are answered 429. */
    readonly maxSubscribersPerClient: number;
    /** A comment line this often keeps proxies from closing an idle stream. */
    readonly heartbeatMs: number;
    /** A stream is closed after this long; the client reconnects with Last-Event-ID (spreads load on deploys). */
    readonly maxLifetimeMs: number;
    /** The `retry:` advice sent to clients: how long to wait before reconnecting. */
    readonly retryMs: number;
    /** A subscriber whose unsent bytes exceed this is dropped (it does not read), not buffered without limit. */
    readonly maxBufferedBytes: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`,
    );
    this.name = 'ConfigError';
  }
}

const int = (min: number, max: number, fallback: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .optional()
    .transform((v) => v ?? fallback);

const port = (fallback: number) => int(0, 65535, fallback);

const url = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional();

const envSchema = z.object({
  HOST: z.string().trim().min(1).optional().default('0.0.0.0'),
  PORT: port(8000),
  METRICS_PORT: port(8001),
  LISTEN_BACKLOG: int(1, 65_535, 4096),
  WORKERS: int(0, 256, availableParallelism()),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug']).optional().default('info'),
  SERVICE_NAME: z.string().trim().min(1).optional().default('eth-usdt-price-service'),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  REDIS_SENTINELS: z.string().trim().optional(),
  REDIS_SENTINEL_NAME: z.string().trim().min(1).optional(),
  REDIS_SENTINEL_USERNAME: z.string().optional(),
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  REDIS_CLUSTER_NODES: z.string().trim().optional(),
  REDIS_USERNAME: z.string().optional(),
  REDIS_PASSWORD: z.string().optional(),
  REDIS_TLS: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .optional()
    .transform((v) => v === 'true'),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[^{}]*$/, 'must not contain { or }: the keys carry their own hash tag per pair')
    .optional()
    .default('price-service:'),
  REDIS_COMMAND_TIMEOUT_MS: int(10, 10_000, 250),
  PAIRS: z.string().optional(),
  SOURCES: z.string().optional(),
  MOCK_EXCHANGE_URL: url,
  CACHE_TTL: int(1, 3600, 5),
  MAX_STALENESS: int(1, 86_400, 60),
  REFRESH_INTERVAL_MS: int(100, 60_000, 1000),
  MIN_QUORUM: int(1, 20, 3),
  MAX_DEVIATION_BPS: int(1, 10_000, 100),
  MAX_SOURCE_AGE_MS: int(100, 600_000, 5_000),
  UPSTREAM_TIMEOUT_MS: int(50, 30_000, 800),
  UPSTREAM_RETRIES: int(0, 10, 2),
  UPSTREAM_RETRY_BASE_DELAY_MS: int(1, 10_000, 50),
  UPSTREAM_BAN_COOLDOWN_MS: int(0, 86_400_000, 60_000),
  BREAKER_ERROR_THRESHOLD_PERCENT: int(1, 100, 50),
  BREAKER_VOLUME_THRESHOLD: int(1, 1000, 3),
  BREAKER_RESET_MS: int(100, 600_000, 10_000),
  SHUTDOWN_TIMEOUT_MS: int(100, 120_000, 10_000),
  DRAIN_DELAY_MS: int(0, 60_000, 0),
  DRAIN_IDLE_GRACE_MS: int(0, 60_000, 1000),
  TRACE_REQUESTS_PER_SECOND: int(0, 100_000, 10),
  HEADERS_TIMEOUT_MS: int(100, 120_000, 10_000),
  REQUEST_TIMEOUT_MS: int(100, 600_000, 30_000),
  MAX_HEADER_BYTES: int(1024, 1_048_576, 16_384),
  MAX_BODY_BYTES: int(0, 1_048_576, 1024),
  MAX_CONNECTIONS_PER_WORKER: int(1, 1_000_000, 10_000),
  RATE_LIMIT_REQUESTS: int(0, 1_000_000_000, 0),
  RATE_LIMIT_WINDOW_SECONDS: int(1, 86_400, 60),
  TRUSTED_PROXY_HOPS: int(0, 10, 0),
  TRUSTED_PROXY_CIDRS: z.string().trim().optional(),
  CORS_ALLOW_ORIGINS: z.string().trim().optional(),
  STREAM_MAX_SUBSCRIBERS_PER_WORKER: int(1, 1_000_000, 8000),
  STREAM_MAX_SUBSCRIBERS_PER_CLIENT: int(1, 100_000, 20),
  STREAM_HEARTBEAT_MS: int(1000, 300_000, 15_000),
  STREAM_MAX_LIFETIME_MS: int(10_000, 86_400_000, 3_600_000),
  STREAM_RETRY_MS: int(100, 60_000, 2000),
  STREAM_MAX_BUFFERED_BYTES: int(4096, 16_777_216, 65_536),
  ...Object.fromEntries(EXCHANGES.map((name) => [sourceUrlVariable(name), url])),
});

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function sourceUrlVariable(name: ExchangeName): string {
  return `SOURCE_${name.toUpperCase()}_URL`;
}

export function loadConfig(rawEnv: NodeJS.ProcessEnv = process.env): Config {
  // An empty value means unset, as compose files and shells often pass `NAME=` for "no value".
  const env = Object.fromEntries(
    Object.entries(rawEnv).filter(([, value]) => value !== undefined && value !== ''),
  );
  // Each variable on its own, so a cross-field check below can run whenever its own fields parsed, and one
  // run reports every problem.
  const problems: string[] = [];
  const failed = new Set<string>();
  const values: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(envSchema.shape)) {
    const result = (schema as z.ZodType).safeParse(env[name]);
    if (result.success) values[name] = result.data;
    else {
      failed.add(name);
      for (const issue of result.error.issues)
        problems.push(`${[name, ...issue.path].join('.')}: ${issue.message}`);
    }
  }
  const e = values as z.infer<typeof envSchema>;
  /** Runs a cross-field check only when every field it reads parsed. */
  const check = (names: readonly (keyof z.infer<typeof envSchema> & string)[], run: () => void) => {
    if (names.every((name) => !failed.has(name))) run();
  };

  // Lists are checked even when other settings failed, so one run reports every problem.
  const pairTexts = splitList(env.PAIRS ?? 'ETH/USDT');
  const pairs: Pair[] = [];
  for (const text of pairTexts) {
    const pair = parsePair(text);
    if (pair === undefined) problems.push(`PAIRS: "${text}" is not a pair like ETH/USDT`);
    else if (!pairs.some((p) => p.slug === pair.slug)) pairs.push(pair);
  }
  if (pairTexts.length === 0) problems.push('PAIRS: at least one pair is required');

  const sourceNames = splitList(env.SOURCES ?? EXCHANGES.join(','));
  const sources: { name: ExchangeName; baseUrl: string | undefined }[] = [];
  for (const name of sourceNames) {
    if (!(EXCHANGES as readonly string[]).includes(name)) {
      problems.push(`SOURCES: unknown source "${name}" (known: ${EXCHANGES.join(', ')})`);
      continue;
    }
    const exchange = name as ExchangeName;
    if (sources.some((s) => s.name === exchange)) continue;
    const override = env[sourceUrlVariable(exchange)];
    const mock = env.MOCK_EXCHANGE_URL
      ? `${env.MOCK_EXCHANGE_URL.replace(/\/+$/, '')}/${exchange}`
      : undefined;
    sources.push({ name: exchange, baseUrl: (override ?? mock)?.replace(/\/+$/, '') });
  }
  if (sourceNames.length === 0) problems.push('SOURCES: at least one source is required');
  const corsAllowOrigins = parseCorsOrigins(env.CORS_ALLOW_ORIGINS, problems);
  const redisTopology = parseRedisTopology(env, failed, problems);
  const trustedProxyCidrs = parseCidrs(env.TRUSTED_PROXY_CIDRS, problems);

  check(['MIN_QUORUM'], () => {
    if (sources.length > 0 && e.MIN_QUORUM > sources.length) {
      problems.push(`MIN_QUORUM: ${e.MIN_QUORUM} is more than the ${sources.length} configured source(s)`);
    }
  });
  check(['MAX_STALENESS', 'CACHE_TTL'], () => {
    if (e.MAX_STALENESS < e.CACHE_TTL) {
      problems.push(`MAX_STALENESS: ${e.MAX_STALENESS}s must be at least CACHE_TTL (${e.CACHE_TTL}s)`);
    }
  });
  check(['REFRESH_INTERVAL_MS', 'CACHE_TTL'], () => {
    if (e.REFRESH_INTERVAL_MS >= e.CACHE_TTL * 1000) {
      problems.push(
        `REFRESH_INTERVAL_MS: ${e.REFRESH_INTERVAL_MS} must be shorter than CACHE_TTL (${e.CACHE_TTL * 1000} ms) or prices go stale between refreshes`,
      );
    }
  });
  check(['MAX_SOURCE_AGE_MS', 'CACHE_TTL'], () => {
    if (e.MAX_SOURCE_AGE_MS > e.CACHE_TTL * 1000) {
      // The price is as old as its oldest source: an accepted quote older than CACHE_TTL would make a fresh
      // quorum look stale.
      problems.push(
        `MAX_SOURCE_AGE_MS: ${e.MAX_SOURCE_AGE_MS} must not exceed CACHE_TTL (${e.CACHE_TTL * 1000} ms)`,
      );
    }
  });
  check(['DRAIN_DELAY_MS', 'SHUTDOWN_TIMEOUT_MS'], () => {
    if (e.DRAIN_DELAY_MS >= e.SHUTDOWN_TIMEOUT_MS) {
      problems.push(
        `DRAIN_DELAY_MS: ${e.DRAIN_DELAY_MS} must be shorter than SHUTDOWN_TIMEOUT_MS (${e.SHUTDOWN_TIMEOUT_MS})`,
      );
    }
  });
  // The grace starts when the listener closes, after the drain delay; in-flight requests need time after it.
  check(['DRAIN_IDLE_GRACE_MS', 'DRAIN_DELAY_MS', 'SHUTDOWN_TIMEOUT_MS'], () => {
    if (e.DRAIN_IDLE_GRACE_MS > 0 && e.DRAIN_DELAY_MS + e.DRAIN_IDLE_GRACE_MS >= e.SHUTDOWN_TIMEOUT_MS) {
      problems.push(
        `DRAIN_IDLE_GRACE_MS: ${e.DRAIN_IDLE_GRACE_MS} plus DRAIN_DELAY_MS (${e.DRAIN_DELAY_MS}) must be shorter than SHUTDOWN_TIMEOUT_MS (${e.SHUTDOWN_TIMEOUT_MS})`,
      );
    }
  });
  check(['REQUEST_TIMEOUT_MS', 'HEADERS_TIMEOUT_MS'], () => {
    if (e.REQUEST_TIMEOUT_MS < e.HEADERS_TIMEOUT_MS) {
      problems.push(
        `REQUEST_TIMEOUT_MS: ${e.REQUEST_TIMEOUT_MS} must be at least HEADERS_TIMEOUT_MS (${e.HEADERS_TIMEOUT_MS})`,
      );
    }
  });
  check(['PORT', 'METRICS_PORT'], () => {
    if (e.PORT !== 0 && e.PORT === e.METRICS_PORT) problems.push('METRICS_PORT: must differ from PORT');
  });
  check(['STREAM_MAX_SUBSCRIBERS_PER_CLIENT', 'STREAM_MAX_SUBSCRIBERS_PER_WORKER'], () => {
    if (e.STREAM_MAX_SUBSCRIBERS_PER_CLIENT > e.STREAM_MAX_SUBSCRIBERS_PER_WORKER) {
      problems.push(
        `STREAM_MAX_SUBSCRIBERS_PER_CLIENT: ${e.STREAM_MAX_SUBSCRIBERS_PER_CLIENT} is more than STREAM_MAX_SUBSCRIBERS_PER_WORKER (${e.STREAM_MAX_SUBSCRIBERS_PER_WORKER})`,
      );
    }
  });
  check(['STREAM_HEARTBEAT_MS', 'STREAM_MAX_LIFETIME_MS'], () => {
    if (e.STREAM_HEARTBEAT_MS >= e.STREAM_MAX_LIFETIME_MS) {
      problems.push(
        `STREAM_HEARTBEAT_MS: ${e.STREAM_HEARTBEAT_MS} must be shorter than STREAM_MAX_LIFETIME_MS (${e.STREAM_MAX_LIFETIME_MS})`,
      );
    }
  });
  check(['TRUSTED_PROXY_HOPS'], () => {
    // Invalid entries are reported on their own; this is for none given at all.
    if (e.TRUSTED_PROXY_HOPS > 0 && splitList(env.TRUSTED_PROXY_CIDRS ?? '').length === 0) {
      problems.push(
        `TRUSTED_PROXY_HOPS: ${e.TRUSTED_PROXY_HOPS} needs TRUSTED_PROXY_CIDRS (the proxies X-Forwarded-For is taken from); without it any client could pick its own address`,
      );
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);

  return deepFreeze({
    host: e.HOST,
    port: e.PORT,
    metricsPort: e.METRICS_PORT,
    listenBacklog: e.LISTEN_BACKLOG,
    workers: e.WORKERS,
    logLevel: e.LOG_LEVEL,
    serviceName: e.SERVICE_NAME,
    redis: {
      url: e.REDIS_URL,
      topology: redisTopology,
      keyPrefix: e.REDIS_KEY_PREFIX,
      commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
    },
    pairs,
    sources,
    price: {
      freshnessMs: e.CACHE_TTL * 1000,
      maxStalenessMs: e.MAX_STALENESS * 1000,
      refreshIntervalMs: e.REFRESH_INTERVAL_MS,
      minQuorum: e.MIN_QUORUM,
      maxDeviationBps: e.MAX_DEVIATION_BPS,
      maxSourceAgeMs: e.MAX_SOURCE_AGE_MS,
    },
    upstream: {
      timeoutMs: e.UPSTREAM_TIMEOUT_MS,
      retries: e.UPSTREAM_RETRIES,
      retryBaseDelayMs: e.UPSTREAM_RETRY_BASE_DELAY_MS,
      banCooldownMs: e.UPSTREAM_BAN_COOLDOWN_MS,
      breakerErrorThresholdPercent: e.BREAKER_ERROR_THRESHOLD_PERCENT,
      breakerVolumeThreshold: e.BREAKER_VOLUME_THRESHOLD,
      breakerResetMs: e.BREAKER_RESET_MS,
    },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    drainDelayMs: e.DRAIN_DELAY_MS,
    drainIdleGraceMs: e.DRAIN_IDLE_GRACE_MS,
    traceRequestsPerSecond: e.TRACE_REQUESTS_PER_SECOND,
    limits: {
      headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      maxHeaderBytes: e.MAX_HEADER_BYTES,
      maxBodyBytes: e.MAX_BODY_BYTES,
      maxConnectionsPerWorker: e.MAX_CONNECTIONS_PER_WORKER,
    },
    rateLimit: {
      requests: e.RATE_LIMIT_REQUESTS,
      windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS,
      trustedProxyHops: e.TRUSTED_PROXY_HOPS,
      trustedProxyCidrs,
    },
    corsAllowOrigins,
    stream: {
      maxSubscribersPerWorker: e.STREAM_MAX_SUBSCRIBERS_PER_WORKER,
      maxSubscribersPerClient: e.STREAM_MAX_SUBSCRIBERS_PER_CLIENT,
      heartbeatMs: e.STREAM_HEARTBEAT_MS,
      maxLifetimeMs: e.STREAM_MAX_LIFETIME_MS,
      retryMs: e.STREAM_RETRY_MS,
      maxBufferedBytes: e.STREAM_MAX_BUFFERED_BYTES,
    },
  });
}

const REDIS_VARIABLES = [
  'REDIS_URL',
  'REDIS_SENTINELS',
  'REDIS_SENTINEL_NAME',
  'REDIS_SENTINEL_USERNAME',
  'REDIS_SENTINEL_PASSWORD',
  'REDIS_CLUSTER_NODES',
  'REDIS_USERNAME',
  'REDIS_PASSWORD',
  'REDIS_TLS',
] as const;

/**
 * One of three mutually exclusive forms: REDIS_URL (one node; TLS and credentials in the URL), REDIS_SENTINELS
 * with REDIS_SENTINEL_NAME, or REDIS_CLUSTER_NODES (with REDIS_USERNAME / REDIS_PASSWORD / REDIS_TLS for the
 * data nodes, and REDIS_SENTINEL_USERNAME / REDIS_SENTINEL_PASSWORD for the sentinels). Every problem is
 * reported, whatever else failed.
 */
function parseRedisTopology(
  env: Record<string, string | undefined>,
  failed: ReadonlySet<string>,
  problems: string[],
): RedisTopology | undefined {
  const given = REDIS_VARIABLES.filter((name) => env[name] !== undefined);
  const url = env.REDIS_URL;
  const sentinelsText = env.REDIS_SENTINELS;
  const clusterText = env.REDIS_CLUSTER_NODES;
  const forms = [
    url === undefined ? undefined : 'REDIS_URL',
    sentinelsText === undefined ? undefined : 'REDIS_SENTINELS',
    clusterText === undefined ? undefined : 'REDIS_CLUSTER_NODES',
  ].filter((form) => form !== undefined);
  if (forms.length > 1) {
    problems.push(`${forms.join(', ')}: set only one of them (one node, Sentinel or Cluster)`);
    return undefined;
  }
  if (forms.length === 0) {
    if (given.length > 0) {
      problems.push(
        `${given.join(', ')}: set only with REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES (Redis is off without one)`,
      );
    }
    return undefined;
  }
  const tls = env.REDIS_TLS === 'true';
  const credentials = { username: env.REDIS_USERNAME, password: env.REDIS_PASSWORD };
  const misplaced = (names: readonly string[], why: string) => {
    const set = names.filter((name) => env[name] !== undefined);
    if (set.length > 0) problems.push(`${set.join(', ')}: ${why}`);
  };
  if (url !== undefined) {
    misplaced(
      ['REDIS_USERNAME', 'REDIS_PASSWORD', 'REDIS_TLS'],
      'not with REDIS_URL: put credentials in the URL (redis://user:password@host:port) and use rediss:// for TLS',
    );
    misplaced(
      ['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_USERNAME', 'REDIS_SENTINEL_PASSWORD'],
      'only with REDIS_SENTINELS',
    );
    return failed.has('REDIS_URL') ? undefined : { kind: 'single', url };
  }
  if (sentinelsText !== undefined) {
    const sentinels = parseNodes('REDIS_SENTINELS', sentinelsText, 26379, problems);
    const name = env.REDIS_SENTINEL_NAME;
    if (name === undefined) {
      problems.push(
        'REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the master name the sentinels monitor)',
      );
    }
    if (sentinels === undefined || name === undefined || failed.has('REDIS_TLS')) return undefined;
    return {
      kind: 'sentinel',
      sentinels,
      name,
      ...credentials,
      sentinelUsername: env.REDIS_SENTINEL_USERNAME,
      sentinelPassword: env.REDIS_SENTINEL_PASSWORD,
      tls,
    };
  }
  misplaced(
    ['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_USERNAME', 'REDIS_SENTINEL_PASSWORD'],
    'only with REDIS_SENTINELS',
  );
  const nodes = parseNodes('REDIS_CLUSTER_NODES', clusterText ?? '', 6379, problems);
  if (nodes === undefined || failed.has('REDIS_TLS')) return undefined;
  return { kind: 'cluster', nodes, ...credentials, tls };
}

/** `host:port,host:port` (port optional, IPv6 in brackets); undefined after reporting a problem. */
function parseNodes(
  name: string,
  text: string,
  defaultPort: number,
  problems: string[],
): RedisNode[] | undefined {
  const items = splitList(text);
  if (items.length === 0) {
    problems.push(`${name}: at least one host:port is required`);
    return undefined;
  }
  const nodes: RedisNode[] = [];
  let ok = true;
  for (const item of items) {
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(item);
    const port = match?.[3] === undefined ? defaultPort : Number(match[3]);
    const host = match?.[1] ?? match?.[2];
    if (host === undefined || port < 1 || port > 65535) {
      problems.push(
        `${name}: "${item}" is not host:port (e.g. 10.0.0.5:${defaultPort} or [::1]:${defaultPort})`,
      );
      ok = false;
    } else if (!nodes.some((n) => n.host === host && n.port === port)) nodes.push({ host, port });
  }
  return ok ? nodes : undefined;
}

/**
 * `*`, or a comma-separated list of origins as browsers send them (`scheme://host[:port]`, no path): the
 * Origin header is compared byte for byte, so anything else could never match and is a mistake.
 */
/** Comma-separated CIDRs or bare addresses, each checked; kept as `address/prefix`, lower case. */
function parseCidrs(value: string | undefined, problems: string[]): string[] {
  const cidrs: string[] = [];
  for (const item of splitList(value ?? '')) {
    const slash = item.indexOf('/');
    const address = (slash === -1 ? item : item.slice(0, slash)).toLowerCase();
    const family = isIP(address);
    const max = family === 6 ? 128 : 32;
    const prefixText = slash === -1 ? String(max) : item.slice(slash + 1);
    const prefix = Number(prefixText);
    if (family === 0 || !/^(0|[1-9]\d{0,2})$/.test(prefixText) || prefix > max) {
      problems.push(
        `TRUSTED_PROXY_CIDRS: "${item}" is not an address or CIDR (like 10.0.0.0/8 or 2001:db8::/32)`,
      );
      continue;
    }
    const cidr = `${address}/${prefix}`;
    if (!cidrs.includes(cidr)) cidrs.push(cidr);
  }
  return cidrs;
}

function parseCorsOrigins(value: string | undefined, problems: string[]): '*' | string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const items = splitList(value);
  if (items.includes('*')) {
    if (items.length > 1) problems.push('CORS_ALLOW_ORIGINS: "*" cannot be combined with origins');
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
      problems.push(
        `CORS_ALLOW_ORIGINS: "${item}" is not an origin like https://app.example.com (scheme, host, optional port; lower case, no path or trailing slash)`,
      );
    } else if (!origins.includes(origin)) origins.push(origin);
  }
  return origins;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
