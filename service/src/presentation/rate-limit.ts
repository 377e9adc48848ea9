import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientRateLimiter } from '../application/ports';
import { sendProblem } from './problem';
import { addHeader } from './http-headers';

/** allowed, limited (429), error (the store failed: let through), overflow (memory store full: let through). */
export const RATE_LIMIT_RESULTS = ['allowed', 'limited', 'error', 'overflow'] as const;
export type RateLimitResult = (typeof RATE_LIMIT_RESULTS)[number];

/** The store: Redis or memory (infrastructure/rate-limit). */
export type RateLimitStore = Pick<ClientRateLimiter, 'consume'>;

export interface RateLimitDeps {
  readonly limiter: RateLimitStore;
  readonly requests: number;
  readonly windowSeconds: number;
  /** The client a request is counted against (client-identity.ts; the stream limits clients the same way). */
  readonly identify: (req: IncomingMessage) => string;
  readonly common: readonly string[];
  readonly counted: (result: RateLimitResult) => void;
}

/** IETF draft-ietf-httpapi-ratelimit-headers: the policy and the client's standing in it. */
export function createRateLimit(deps: RateLimitDeps) {
  const policy = `"api";q=${deps.requests};w=${deps.windowSeconds}`;
  return {
    /** Resolves true when the request may go on; otherwise it has been answered 429. Never rejects. */
    async admit(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
      const decision = await deps.limiter.consume(deps.identify(req));
      if (decision.kind === 'unavailable') {
        deps.counted('error');
        return true;
      }
      if (decision.kind === 'overflow') {
        deps.counted('overflow');
        return true;
      }
      const resetSeconds = Math.max(1, Math.ceil(decision.resetMs / 1000));
      const state = `"api";r=${decision.remaining};t=${resetSeconds}`;
      if (decision.kind === 'allowed') {
        deps.counted('allowed');
        addHeader(res, 'RateLimit-Policy', policy);
        addHeader(res, 'RateLimit', state);
        return true;
      }
      deps.counted('limited');
      sendProblem(
        res,
        {
          code: 'RATE_LIMITED',
          detail: `At most ${deps.requests} requests per ${deps.windowSeconds} s per client; retry in ${resetSeconds} s.`,
          instance: req.url,
        },
        deps.common,
        { 'Retry-After': String(resetSeconds), 'RateLimit-Policy': policy, RateLimit: state },
      );
      return false;
    },
  };
}

export type RateLimit = ReturnType<typeof createRateLimit>;
