import { SpanStatusCode, trace } from '@opentelemetry/api';
import axios, { AxiosError, type AxiosInstance } from 'axios';
import axiosRetry, { exponentialDelay, retryAfter } from 'axios-retry';
import http from 'node:http';
import https from 'node:https';
import CircuitBreaker from 'opossum';
import type { PriceSource } from '../../application/ports';
import {
  AppError,
  CircuitOpenError,
  UpstreamHttpError,
  UpstreamInvalidBodyError,
  UpstreamRateLimitedError,
  UpstreamTimeoutError,
  UpstreamUnreachableError,
} from '../../domain/errors';
import type { Pair } from '../../domain/pair';
import { MAX_FUTURE_SKEW_MS, type Quote } from '../../domain/quote';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import type { ExchangeAdapter } from './exchange-adapter';
import { UPSTREAM_OUTCOMES } from './upstream-outcomes';

const tracer = trace.getTracer('price-sources');
const USER_AGENT = 'eth-usdt-price-service/0.1 (+https://github.com/eth-usdt-price-service)';
/** A 429 asking for a longer pause than this is a cool-down for the source, not something to wait out in a retry. */
const MAX_RETRY_AFTER_WAIT_MS = 1000;

export interface HttpSourceOptions {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly retryBaseDelayMs: number;
  readonly banCooldownMs: number;
  /** Cool-down after a 429 that names no Retry-After. */
  readonly defaultRateLimitCooldownMs: number;
  readonly breaker: { errorThresholdPercent: number; volumeThreshold: number; resetMs: number };
}

const OUTCOME: Record<string, (typeof UPSTREAM_OUTCOMES)[number]> = {
  UPSTREAM_HTTP_STATUS: 'http_error',
  UPSTREAM_TIMEOUT: 'timeout',
  UPSTREAM_UNREACHABLE: 'unreachable',
  UPSTREAM_INVALID_BODY: 'invalid_body',
  UPSTREAM_BODY_ERROR: 'body_error',
  UPSTREAM_RATE_LIMITED: 'rate_limited',
  UPSTREAM_CIRCUIT_OPEN: 'circuit_open',
};

/**
 * One exchange behind axios (keep-alive, per-try timeout), axios-retry (exponential backoff with jitter on
 * network errors, timeouts, 5xx and short 429s, honouring Retry-After) and an opossum breaker. A 418/451 or
 * a long 429 starts a cool-down instead: no request reaches the exchange until it ends.
 */
export function createHttpPriceSource(
  adapter: ExchangeAdapter,
  options: HttpSourceOptions,
  deps: { metrics: Pick<Metrics, 'upstreamFetch' | 'upstreamRetry' | 'breaker'>; logger: Logger },
): PriceSource & { shutdown(): void } {
  const { metrics, logger } = deps;
  const name = adapter.name;
  let coolingDownUntilMs = 0;

  const client: AxiosInstance = axios.create({
    baseURL: options.baseUrl,
    timeout: options.timeoutMs,
    responseType: 'text',
    // Keep the raw text: prices are parsed from it by the adapter's schema, and garbage must be seen as such.
    transformResponse: [(data: unknown) => data],
    headers: { 'User-Agent': USER_AGENT, Accept: 'application/json' },
    httpAgent: new http.Agent({ keepAlive: true, maxSockets: 4 }),
    httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 4 }),
    maxRedirects: 0,
    // A ticker is a few hundred bytes; anything near this is not one, and must not be buffered whole.
    maxContentLength: 256 * 1024,
  });
  axiosRetry(client, {
    retries: options.retries,
    shouldResetTimeout: true,
    retryCondition: (error) => {
      const status = error.response?.status;
      if (error.code === 'ERR_CANCELED') return false; // the whole-fetch budget is spent
      if (status === undefined) return true; // network error or per-try timeout
      if (status === 429) return retryAfter(error) <= MAX_RETRY_AFTER_WAIT_MS;
      return status >= 500;
    },
    retryDelay: (count, error) => exponentialDelay(count, error, options.retryBaseDelayMs),
    onRetry: () => metrics.upstreamRetry(name),
  });

  const totalBudgetMs = options.timeoutMs * (options.retries + 1) + 2000;

  async function request(pair: Pair): Promise<Quote> {
    const started = performance.now();
    let response;
    try {
      // axios' timeout is per try (and axios-retry reuses the config); the signal bounds the whole fetch,
      // retries and backoff included, so a source can never hold its slot for long.
      response = await client.get<string>(adapter.tickerPath(pair), {
        signal: AbortSignal.timeout(totalBudgetMs),
      });
    } catch (error) {
      throw toUpstreamError(error);
    }
    const receivedAtMs = Date.now();
    let body: unknown;
    try {
      body = JSON.parse(response.data);
    } catch {
      throw new UpstreamInvalidBodyError(`${name}: body is not JSON`);
    }
    const ticker = adapter.parseTicker(body, pair);
    if (ticker.timestampMs !== undefined && ticker.timestampMs > receivedAtMs + MAX_FUTURE_SKEW_MS) {
      throw new UpstreamInvalidBodyError(`${name}: timestamp ${ticker.timestampMs} is in the future`);
    }
    return {
      exchange: name,
      pair: pair.slug,
      bid: ticker.bid,
      ask: ticker.ask,
      ...(ticker.last === undefined ? {} : { last: ticker.last }),
      timestampMs: ticker.timestampMs ?? receivedAtMs,
      timestampSource: ticker.timestampMs === undefined ? 'receive' : 'exchange',
      receivedAtMs,
      latencyMs: Math.round(performance.now() - started),
    };
  }

  function toUpstreamError(error: unknown): AppError {
    if (!(error instanceof AxiosError))
      return new UpstreamUnreachableError(`${name}: ${String(error)}`, { cause: error });
    const status = error.response?.status;
    if (status === 429 || status === 418 || status === 451) {
      const headerMs = retryAfter(error);
      const fallback = status === 429 ? options.defaultRateLimitCooldownMs : options.banCooldownMs;
      return new UpstreamRateLimitedError(
        headerMs > 0 ? headerMs : fallback,
        status,
        `${name}: HTTP ${status}`,
      );
    }
    if (status !== undefined) {
      const detail = describe(error.response?.data);
      return new UpstreamHttpError(status, `${name}: HTTP ${status}${detail ? ` (${detail})` : ''}`);
    }
    if (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT' || error.code === 'ERR_CANCELED') {
      return new UpstreamTimeoutError(`${name}: no answer within ${options.timeoutMs} ms`);
    }
    return new UpstreamUnreachableError(`${name}: ${error.code ?? error.message}`, { cause: error });
  }

  function describe(data: unknown): string | undefined {
    if (typeof data !== 'string') return undefined;
    try {
      return adapter.describeErrorBody(JSON.parse(data));
    } catch {
      return data.slice(0, 80);
    }
  }

  const breaker = new CircuitBreaker(request, {
    name,
    timeout: false, // axios owns timeouts, per try
    errorThresholdPercentage: options.breaker.errorThresholdPercent,
    volumeThreshold: options.breaker.volumeThreshold,
    resetTimeout: options.breaker.resetMs,
    rollingCountTimeout: 30_000,
    rollingCountBuckets: 10,
    // Rate limits are handled by the cool-down; they say nothing about the exchange being broken.
    errorFilter: (error: unknown) => error instanceof UpstreamRateLimitedError,
  });
  breaker.on('open', () => {
    metrics.breaker(name, 'open');
    logger.warn('circuit breaker opened', { source: name, resetMs: options.breaker.resetMs });
  });
  breaker.on('halfOpen', () => {
    metrics.breaker(name, 'half_open');
    logger.info('circuit breaker half-open: trying the source again', { source: name });
  });
  breaker.on('close', () => {
    metrics.breaker(name, 'closed');
    logger.info('circuit breaker closed', { source: name });
  });
  metrics.breaker(name, 'closed');

  async function fetchQuote(pair: Pair): Promise<Quote> {
    const started = performance.now();
    if (Date.now() < coolingDownUntilMs) {
      metrics.upstreamFetch(name, 'cooling_down', 0);
      throw new UpstreamRateLimitedError(coolingDownUntilMs - Date.now(), undefined, `${name}: cooling down`);
    }
    return tracer.startActiveSpan(
      'upstream.fetch',
      { attributes: { 'price.source': name, 'price.pair': pair.slug } },
      async (span) => {
        try {
          const quote = await breaker.fire(pair);
          metrics.upstreamFetch(name, 'success', (performance.now() - started) / 1000);
          return quote;
        } catch (raw) {
          // EOPENBREAKER: opossum refused the call (open, or half-open with its one trial call in flight).
          const error =
            raw instanceof AppError
              ? raw
              : (raw as { code?: unknown }).code === 'EOPENBREAKER'
                ? new CircuitOpenError(name)
                : toUpstreamError(raw);
          if (error instanceof UpstreamRateLimitedError) {
            coolingDownUntilMs = Date.now() + error.retryAfterMs;
            logger.warn('source rate-limited us: cooling down', {
              source: name,
              status: error.status,
              cooldownMs: error.retryAfterMs,
            });
          } else if (!(error instanceof CircuitOpenError)) {
            logger.debug('upstream fetch failed', { source: name, code: error.code, error: error.message });
          }
          metrics.upstreamFetch(
            name,
            OUTCOME[error.code] ?? 'unreachable',
            (performance.now() - started) / 1000,
          );
          span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }

  return {
    name,
    fetchQuote,
    shutdown() {
      breaker.shutdown();
    },
  };
}
