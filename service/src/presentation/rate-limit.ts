import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { ClientRateLimiter } from '../application/ports';
import type { RateLimitResult } from '../shared/metrics';
import { sendProblem } from './problem';

export interface RateLimitDeps {
  readonly limiter: ClientRateLimiter;
  readonly requests: number;
  readonly windowSeconds: number;
  /** See Config.rateLimit.trustedProxyHops. */
  readonly trustedProxyHops: number;
  readonly common: readonly string[];
  readonly counted: (result: RateLimitResult) => void;
}

/**
 * The client a request is counted against. With N trusted proxies in front, each appends the address it
 * received the request from to X-Forwarded-For, so the N-th entry from the right was written by the outermost
 * trusted proxy: anything left of it is the client's to invent. With fewer entries than hops the leftmost
 * one is used (the request came through fewer proxies than configured); without any, or if the chosen entry
 * is not an address, the TCP peer.
 */
export function clientIdentity(req: IncomingMessage, trustedProxyHops: number): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (trustedProxyHops === 0) return peer;
  const entries: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() === 'x-forwarded-for') {
      for (const entry of (raw[i + 1] as string).split(',')) entries.push(entry.trim());
    }
  }
  if (entries.length === 0) return peer;
  const chosen = entries[Math.max(0, entries.length - trustedProxyHops)] as string;
  return isIP(chosen) === 0 ? peer : chosen;
}

/** IETF draft-ietf-httpapi-ratelimit-headers: the policy and the client's standing in it. */
export function createRateLimit(deps: RateLimitDeps) {
  const policy = `"api";q=${deps.requests};w=${deps.windowSeconds}`;
  return {
    /** Resolves true when the request may go on; otherwise it has been answered 429. */
    async admit(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
      const decision = await deps.limiter.consume(clientIdentity(req, deps.trustedProxyHops));
      if (decision.kind === 'unavailable') {
        deps.counted('error');
        return true;
      }
      const resetSeconds = Math.max(1, Math.ceil(decision.resetMs / 1000));
      const state = `"api";r=${decision.remaining};t=${resetSeconds}`;
      if (decision.kind === 'allowed') {
        deps.counted('allowed');
        res.setHeader('RateLimit-Policy', policy);
        res.setHeader('RateLimit', state);
        return true;
      }
      deps.counted('limited');
      sendProblem(
        res,
        {
          status: 429,
          code: 'RATE_LIMITED',
          title: 'Too many requests',
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
