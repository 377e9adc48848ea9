import { ONE, parseDecimal } from './decimal';
import { EXCHANGES, type ExchangeName } from './quotes';

export type RateLimitStatus = 418 | 429 | 451;

/** A misbehaviour injected into one exchange's ticker answers; `times` limits it to the next n requests. */
export type Fault = { readonly times?: number } & (
  | { readonly type: 'latency'; readonly ms: number }
  | { readonly type: 'status'; readonly status: number }
  | { readonly type: 'rate-limit'; readonly status?: RateLimitStatus; readonly retryAfterSeconds?: number }
  | { readonly type: 'garbage' }
  | { readonly type: 'body-error'; readonly kind?: 'error' | 'rate-limit' }
  | { readonly type: 'outage' }
  | { readonly type: 'spike'; readonly factor: string }
  | { readonly type: 'schema' }
);

export type FaultType = Fault['type'];

const PARAMETERS: Readonly<Record<FaultType, readonly string[]>> = {
  latency: ['ms'],
  status: ['status'],
  'rate-limit': ['status', 'retryAfterSeconds'],
  garbage: [],
  'body-error': ['kind'],
  outage: [],
  spike: ['factor'],
  schema: [],
};

const MAX_LATENCY_MS = 120_000;
/** A spike outside this range would push prices to zero or beyond anything a test needs. */
const MIN_SPIKE_FACTOR = ONE / 10n;
const MAX_SPIKE_FACTOR = 10n * ONE;

const isIntegerIn = (value: unknown, min: number, max: number): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;

export type ParseResult = { readonly fault: Fault } | { readonly error: string };

/** Validates a fault from untrusted JSON, rejecting unknown keys so that a typo never silently does nothing. */
export function parseFault(input: unknown): ParseResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { error: 'fault must be a JSON object with a "type"' };
  }
  const body = input as Record<string, unknown>;
  const type = body.type;
  if (typeof type !== 'string' || !Object.hasOwn(PARAMETERS, type)) {
    return { error: `fault "type" must be one of ${Object.keys(PARAMETERS).join(', ')}` };
  }
  const faultType = type as FaultType;
  const allowed = new Set(['type', 'times', ...PARAMETERS[faultType]]);
  const unknown = Object.keys(body).filter((key) => !allowed.has(key));
  if (unknown.length > 0) return { error: `unknown field(s) for ${faultType}: ${unknown.join(', ')}` };

  if (body.times !== undefined && !isIntegerIn(body.times, 1, 1_000_000)) {
    return { error: '"times" must be a positive integer' };
  }
  const times = body.times === undefined ? {} : { times: body.times as number };

  switch (faultType) {
    case 'latency':
      if (!isIntegerIn(body.ms, 0, MAX_LATENCY_MS)) {
        return { error: `latency needs "ms", an integer from 0 to ${MAX_LATENCY_MS}` };
      }
      return { fault: { type: 'latency', ms: body.ms, ...times } };
    case 'status':
      if (!isIntegerIn(body.status, 400, 599))
        return { error: 'status needs "status", an integer from 400 to 599' };
      return { fault: { type: 'status', status: body.status, ...times } };
    case 'rate-limit': {
      const status = body.status ?? 429;
      if (status !== 418 && status !== 429 && status !== 451) {
        return { error: 'rate-limit "status" must be 429, 418 or 451' };
      }
      if (body.retryAfterSeconds !== undefined && !isIntegerIn(body.retryAfterSeconds, 0, 86_400)) {
        return { error: '"retryAfterSeconds" must be an integer from 0 to 86400' };
      }
      const retryAfter =
        body.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: body.retryAfterSeconds as number };
      return { fault: { type: 'rate-limit', status, ...retryAfter, ...times } };
    }
    case 'body-error': {
      const kind = body.kind ?? 'error';
      if (kind !== 'error' && kind !== 'rate-limit')
        return { error: 'body-error "kind" must be error or rate-limit' };
      return { fault: { type: 'body-error', kind, ...times } };
    }
    case 'spike': {
      const factor = typeof body.factor === 'string' ? parseDecimal(body.factor) : undefined;
      if (factor === undefined || factor < MIN_SPIKE_FACTOR || factor > MAX_SPIKE_FACTOR) {
        return { error: 'spike needs "factor", a decimal string from "0.1" to "10" such as "1.10"' };
      }
      return { fault: { type: 'spike', factor: body.factor as string, ...times } };
    }
    case 'garbage':
    case 'outage':
    case 'schema':
      return { fault: { type: faultType, ...times } };
  }
}

interface ActiveFault {
  readonly fault: Fault;
  remaining: number | undefined;
}

/** The fault each exchange currently has, at most one. */
export class FaultTable {
  private readonly active = new Map<ExchangeName, ActiveFault>();

  set(exchange: ExchangeName, fault: Fault): void {
    this.active.set(exchange, { fault, remaining: fault.times });
  }

  clear(exchange: ExchangeName): void {
    this.active.delete(exchange);
  }

  clearAll(): void {
    this.active.clear();
  }

  /** The fault to apply to the request being answered; counts it against `times`. */
  take(exchange: ExchangeName): Fault | undefined {
    const entry = this.active.get(exchange);
    if (!entry) return undefined;
    if (entry.remaining !== undefined) {
      entry.remaining -= 1;
      if (entry.remaining <= 0) this.active.delete(exchange);
    }
    return entry.fault;
  }

  /** Every exchange with its fault or null; `times` shows the requests left. */
  list(): Record<ExchangeName, Fault | null> {
    const listing = {} as Record<ExchangeName, Fault | null>;
    for (const exchange of EXCHANGES) {
      const entry = this.active.get(exchange);
      if (!entry) listing[exchange] = null;
      else {
        const { times: _times, ...fault } = entry.fault;
        listing[exchange] = (
          entry.remaining === undefined ? fault : { ...fault, times: entry.remaining }
        ) as Fault;
      }
    }
    return listing;
  }
}
