import type { Server } from 'node:http';
import type { Config } from '../config';
import type { HttpServer } from '../infrastructure/http/http-server';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { SharedCacheReads } from '../application/ports';
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

/** After DRAIN_DELAY_MS, how long no new connection must arrive before the listener closes, and the most waited. */
const SETTLE_QUIET_MS = 250;
const SETTLE_MAX_MS = 1000;

/**
 * Resolves once the server has accepted no connection for quietMs, or after maxMs whatever comes. A timer
 * that fires is confirmed from setImmediate, after the loop's poll phase: a process that was not scheduled
 * for a while runs its timers before it accepts what queued up meanwhile, which is not quiet.
 */
function acceptedNothingFor(server: Server, quietMs: number, maxMs: number): Promise<void> {
  return new Promise((resolve) => {
    let accepted = 0;
    const confirm = () => {
      const seen = accepted;
      setImmediate(() => {
        if (accepted === seen) done();
      });
    };
    let quiet = setTimeout(confirm, quietMs);
    const giveUp = setTimeout(done, maxMs);
    const onConnection = () => {
      accepted++;
      clearTimeout(quiet);
      quiet = setTimeout(confirm, quietMs);
    };
    server.on('connection', onConnection);
    function done() {
      clearTimeout(quiet);
      clearTimeout(giveUp);
      server.off('connection', onConnection);
      resolve();
    }
  });
}

export interface ServingDeps {
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly shared: SharedCacheReads;
  /** The process's history (its store, or the primary's over IPC). */
  readonly history: PriceHistory;
  readonly port?: number;
  /** A cluster worker's: a listening socket of its own (SO_REUSEPORT), closed by the worker itself. */
  readonly reusePort?: boolean;
  /**
   * Resolves once no process of this replica listens any more (a cluster worker asks the primary); until
   * then responses keep their connections open. Absent: this process's own listener is the only one.
   */
  readonly listenersClosed?: () => Promise<void>;
}

/**
 * What a serving process (a cluster worker, or the only process) runs: the read path behind the API
 * listener, and how it drains. Readiness turns 503 first and the process keeps serving for DRAIN_DELAY_MS,
 * so the load balancer stops sending before the listener closes. Then the listener closes, in every worker,
 * before any response says `Connection: close`: a client told to close that reconnected while some listener
 * of the replica was still open could be accepted by a socket about to close and be reset before its first
 * answer (docs/deployment.md). Streams are ended then (they never end by themselves), so their clients
 * reconnect to a replica that stays; open connections drain last. Built before it listens, so snapshots
 * sent while it starts are kept.
 */
export function buildServing(config: Config, deps: ServingDeps): Serving {
  let draining = false;
  let closingConnections = false;
  let listenerClosed = false;
  let stoppedAt = Date.now();
  let server: HttpServer | undefined;
  let listening: Promise<HttpServer> | undefined;
  const http = buildHttp(config, {
    ...deps,
    isDraining: () => draining,
    isClosingConnections: () => closingConnections,
  });
  return {
    accept: http.accept,
    async listen() {
      listening = listenApi(config, http, deps);
      server = await listening;
      // A shutdown during start-up closed the listener before there was one.
      if (listenerClosed) server.closeListener();
      return server;
    },
    steps: [
      {
        name: 'stop taking traffic',
        async run() {
          draining = true;
          stoppedAt = Date.now();
          if (config.drainDelayMs > 0) {
            // Load balancers and kube-proxy pin connections: told to close, their clients reconnect through
            // them to a replica that stays, while this one still accepts the stragglers.
            closingConnections = true;
            await new Promise((resolve) => setTimeout(resolve, config.drainDelayMs));
            // Clients that still reconnect here (nothing in front took this replica out) would race the
            // listener's close: keep-alive again until no new connection has come for a moment.
            closingConnections = false;
            if (server !== undefined) await acceptedNothingFor(server.server, SETTLE_QUIET_MS, SETTLE_MAX_MS);
          }
        },
      },
      {
        name: 'close the listener',
        async run() {
          listenerClosed = true;
          // A listener still being opened is closed once open (listen() does it), before the others hear
          // that this one is: else it could take their reconnecting clients and reset them.
          await listening?.catch(() => undefined);
          server?.closeListener();
          await deps.listenersClosed?.();
        },
      },
      {
        name: 'end keep-alive',
        run() {
          closingConnections = true;
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
            // What is left of SHUTDOWN_TIMEOUT_MS after the delay, the settling and the listeners' barrier.
            timeoutMs: Math.max(0, config.shutdownTimeoutMs - (Date.now() - stoppedAt)),
            idleGraceMs: config.drainIdleGraceMs,
          });
          if (outcome === 'deadline') deps.logger.warn('drain deadline passed: open connections destroyed');
        },
      },
      { name: 'close the read path', run: () => http.close() },
    ],
  };
}
