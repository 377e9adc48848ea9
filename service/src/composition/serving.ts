import type { Config } from '../config';
import type { HttpServer } from '../infrastructure/http/http-server';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { SharedCache } from '../application/ports';
import type { PriceHistory } from '../application/price-history';
import type { PriceSnapshot } from '../application/price-snapshot';
import { buildHttp } from './http';
import { listenApi } from './servers';

/** One thing a process does on its way out; the roles' lifecycle (cluster/lifecycle.ts) runs them in order. */
export interface ShutdownStep {
  readonly name: string;
  run(): unknown;
}

export interface Serving {
  /** A snapshot from the primary (IPC) or the local refresher; taken from the moment it is built. */
  accept(snapshot: PriceSnapshot): void;
  /** Starts the API listener. */
  listen(): Promise<HttpServer>;
  /** Serving's part of the shutdown, in order: stop taking traffic, end streams, drain, close. */
  readonly steps: readonly ShutdownStep[];
}

/**
 * What a serving process (a cluster worker, or the only process) runs: the read path behind the API
 * listener, and how it drains. Readiness turns 503 first and the process keeps serving for DRAIN_DELAY_MS,
 * so the load balancer stops sending before the listener closes; streams are ended then (they never end by
 * themselves), so their clients reconnect to a replica that stays; open connections drain last. Built
 * before it listens, so snapshots sent while it starts are kept.
 */
export function buildServing(
  config: Config,
  deps: { metrics: Metrics; logger: Logger; shared: SharedCache; history: PriceHistory; port?: number },
): Serving {
  let draining = false;
  let server: HttpServer | undefined;
  const http = buildHttp(config, { ...deps, isDraining: () => draining });
  return {
    accept: http.accept,
    async listen() {
      server = await listenApi(config, http, deps);
      return server;
    },
    steps: [
      {
        name: 'stop taking traffic',
        async run() {
          draining = true;
          if (config.drainDelayMs > 0)
            await new Promise((resolve) => setTimeout(resolve, config.drainDelayMs));
        },
      },
      {
        name: 'end price streams',
        run() {
          const ended = http.stream.close();
          if (ended > 0) deps.logger.info('price streams ended for the drain', { streams: ended });
        },
      },
      {
        name: 'drain connections',
        async run() {
          // A shutdown during start-up: nothing is listening yet.
          const outcome = await server?.drain({
            timeoutMs: config.shutdownTimeoutMs - config.drainDelayMs,
            idleGraceMs: config.drainIdleGraceMs,
          });
          if (outcome === 'deadline') deps.logger.warn('drain deadline passed: open connections destroyed');
        },
      },
      { name: 'close the read path', run: () => http.close() },
    ],
  };
}
