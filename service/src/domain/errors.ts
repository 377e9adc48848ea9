/**
 * Errors with stable codes. The code is part of the public contract: it appears in problem+json bodies,
 * log lines and metric labels, so renaming one is a breaking change.
 */
export type ErrorCode =
  | 'UPSTREAM_HTTP_STATUS'
  | 'UPSTREAM_BODY_ERROR'
  | 'UPSTREAM_INVALID_BODY'
  | 'UPSTREAM_RATE_LIMITED'
  | 'UPSTREAM_UNREACHABLE'
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_CIRCUIT_OPEN'
  | 'PAIR_NOT_SUPPORTED'
  | 'PRICE_UNAVAILABLE'
  | 'ROUTE_NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'BAD_REQUEST'
  | 'RATE_LIMITED'
  | 'PAYLOAD_TOO_LARGE'
  | 'REQUEST_HEADER_FIELDS_TOO_LARGE'
  | 'REQUEST_TIMEOUT'
  | 'EXPECTATION_FAILED'
  | 'INTERNAL';

/** The state a source is in for a round when its fetch failed with this code. */
export function failureStateOf(code: ErrorCode): 'circuit_open' | 'rate_limited' | 'error' {
  if (code === 'UPSTREAM_CIRCUIT_OPEN') return 'circuit_open';
  if (code === 'UPSTREAM_RATE_LIMITED') return 'rate_limited';
  return 'error';
}

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The exchange answered with a status we do not accept (5xx after retries, 4xx other than rate limits). */
export class UpstreamHttpError extends AppError {
  constructor(
    readonly status: number,
    message = `upstream answered HTTP ${status}`,
  ) {
    super('UPSTREAM_HTTP_STATUS', message);
  }
}

/** The exchange reported an error inside the body (often with HTTP 200: OKX code != "0", Kraken error[]). */
export class UpstreamBodyError extends AppError {
  constructor(
    readonly exchangeCode: string,
    message: string,
  ) {
    super('UPSTREAM_BODY_ERROR', `exchange error ${exchangeCode}: ${message}`);
  }
}

/** The body is not JSON, or does not match the exchange's schema, or carries an impossible price. */
export class UpstreamInvalidBodyError extends AppError {
  constructor(message: string) {
    super('UPSTREAM_INVALID_BODY', message);
  }
}

/**
 * The exchange asked us to slow down (429, a body-level rate-limit code) or banned us for a while (418, 451).
 * The source cools down for retryAfterMs: no request reaches it until then.
 */
export class UpstreamRateLimitedError extends AppError {
  constructor(
    readonly retryAfterMs: number,
    readonly status: number | undefined,
    message: string,
  ) {
    super('UPSTREAM_RATE_LIMITED', message);
  }
}

export class UpstreamUnreachableError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('UPSTREAM_UNREACHABLE', message, options);
  }
}

export class UpstreamTimeoutError extends AppError {
  constructor(message: string) {
    super('UPSTREAM_TIMEOUT', message);
  }
}

export class CircuitOpenError extends AppError {
  constructor(source: string) {
    super('UPSTREAM_CIRCUIT_OPEN', `circuit breaker for ${source} is open`);
  }
}
