import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface DrainOptions {
  /** Past this, whatever is still open is destroyed. */
  readonly timeoutMs: number;
  /** How long an idle keep-alive connection may still bring one more request after the listener closed. */
  readonly idleGraceMs: number;
}

export interface HttpServer {
  readonly server: http.Server;
  readonly port: number;
  /** Client connections open now. */
  openConnections(): number;
  /** The connection cap applied: the configured one, or less if the file descriptor limit is lower. */
  readonly connectionCap: number;
  /**
   * Stop accepting: the listening socket is closed when this returns, so from then on the kernel refuses new
   * connections (or, with `reusePort`, hands them to another process's socket). Connections already
   * accepted stay as they are. Idempotent; drain() does it too.
   */
  closeListener(): void;
  /**
   * Stop accepting (if not done yet), give each idle keep-alive connection the grace (from drain() or from
   * when it went idle, whichever is later), let in-flight responses finish and be sent in full, destroy what is left at the
   * deadline. The listener must already answer every request with `Connection: close` (the caller's draining
   * flag), so each busy connection ends by itself once its response is written.
   */
  drain(options: DrainOptions): Promise<'drained' | 'deadline'>;
}

export interface ConnectionLimits {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxHeaderBytes: number;
  readonly maxConnections: number;
}

/** What Node's HTTP layer would otherwise answer with a bare status line, or not at all (presentation). */
export interface ProtocolHandlers {
  clientError(error: Error & { code?: string }, socket: Duplex): void;
  checkExpectation(req: IncomingMessage, res: ServerResponse): void;
  connect(req: IncomingMessage, socket: Duplex): void;
  /** The first request on a connection accepted over the cap: answered (503, Connection: close), not served. */
  overCapacity(req: IncomingMessage, res: ServerResponse): void;
}

const DEFAULT_LIMITS: ConnectionLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxHeaderBytes: 16_384,
  maxConnections: 10_000,
};

/** File descriptors a worker keeps for itself beyond client connections: IPC, Redis, logs, the listener. */
const RESERVED_FDS = 64;
/**
 * Connections over the cap held at once to tell them 503 (more are closed at once, unanswered), and how long
 * one may take to send its first request: a flood of them must not hold descriptors the cap is there to bound.
 */
const MAX_REFUSING = 64;
const REFUSING_GRACE_MS = 1000;

/** The soft RLIMIT_NOFILE of this process, where Linux tells (undefined elsewhere or when unlimited). */
export function openFileLimit(): number | undefined {
  try {
    const line = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return line === null ? undefined : Number(line[1]);
  } catch {
    return undefined;
  }
}

/**
 * The connection cap actually applied: the configured one, lowered to what the file descriptor limit can
 * hold, so a flood of connections meets the cap before accept() starts failing with EMFILE.
 */
export function effectiveConnectionCap(configured: number, fileLimit = openFileLimit()): number {
  if (fileLimit === undefined) return configured;
  return Math.max(1, Math.min(configured, fileLimit - RESERVED_FDS));
}

interface ConnectionState {
  /** Requests received and not yet answered in full (pipelined ones included). */
  inFlight: number;
  /** When the last response was sent in full, or the connection was accepted. */
  idleSince: number;
  /** socket.bytesRead then: more since means a next request has begun to arrive. */
  bytesReadWhenIdle: number;
}

/** Nothing being answered or still being written, and not a byte received since the last response. */
function isIdle(socket: Socket, state: ConnectionState): boolean {
  return state.inFlight === 0 && socket.writableLength === 0 && socket.bytesRead === state.bytesReadWhenIdle;
}

/** The API server: listen, and drain on shutdown without dropping requests on keep-alive connections. */
export async function startHttpServer(options: {
  host: string;
  port: number;
  /** Accept queue length; the kernel caps it at net.core.somaxconn. */
  backlog: number;
  listener: RequestListener;
  limits?: ConnectionLimits;
  handlers?: ProtocolHandlers;
  /** A connection closed on accept because the cap was reached. */
  onConnectionDropped?: () => void;
  /**
   * SO_REUSEPORT, for cluster workers: each binds a listening socket of its own on the port (the kernel
   * spreads new connections over them) instead of sharing the primary's, so each closes its own when it
   * drains and the primary accepts nothing on its behalf (docs/deployment.md, "reset before first answer").
   */
  reusePort?: boolean;
}): Promise<HttpServer> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  // Not server.maxConnections: in a cluster worker a connection refused that way goes back to the primary,
  // which offers it to the next worker, and round and round while every worker is full. Closing it here
  // frees the descriptor at once.
  const cap = effectiveConnectionCap(limits.maxConnections);
  // Per connection, not per request: what drain() needs to tell a connection that is idle (nothing being
  // answered or still being sent, nothing more received) from one that is not.
  const connections = new Map<Socket, ConnectionState>();
  // Over the cap, a connection whose client sends a request in time is told so (503 problem+json,
  // `Connection: close`) rather than reset; it holds its descriptor at most REFUSING_GRACE_MS.
  const refusing = new Set<Socket>();
  const server = http.createServer(
    {
      // Behind a load balancer with a 60 s idle timeout the server must keep idle connections longer than
      // it does. Since Node 18 the headers timeout no longer runs while a keep-alive connection is idle, so
      // it can be short: it bounds how long a connection may take to send its headers (slowloris).
      keepAliveTimeout: 65_000,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // The timeouts are only checked this often (Node's default is 30 s, which would let a slow client
      // hold its socket for the timeout plus up to 30 s). One pass over the open connections per second.
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
      maxHeaderSize: limits.maxHeaderBytes,
      // Checked by the request guard, which answers problem+json instead of Node's bare 400.
      requireHostHeader: false,
    },
    // The one 'request' listener: with a second one, every emit copies the listener array.
    (req: IncomingMessage, res: ServerResponse) => {
      const socket = req.socket as Socket;
      const state = connections.get(socket);
      if (state !== undefined) {
        state.inFlight++;
        // `on`, not `once`: 'close' comes once per response, and `once` allocates a wrapper per call.
        res.on('close', onResponseClose);
      } else if (refusing.has(socket)) {
        res.shouldKeepAlive = false;
        options.handlers?.overCapacity(req, res);
        return;
      }
      options.listener(req, res);
    },
  );
  if (options.handlers !== undefined) {
    server.on('clientError', options.handlers.clientError);
    server.on('checkExpectation', options.handlers.checkExpectation);
    server.on('connect', options.handlers.connect);
  }
  server.on('connection', (socket: Socket) => {
    if (connections.size >= cap) {
      options.onConnectionDropped?.();
      if (options.handlers === undefined || refusing.size >= MAX_REFUSING) {
        socket.destroy();
        return;
      }
      refusing.add(socket);
      const timer = setTimeout(() => socket.destroy(), REFUSING_GRACE_MS);
      socket.once('close', () => {
        clearTimeout(timer);
        refusing.delete(socket);
      });
      return;
    }
    connections.set(socket, { inFlight: 0, idleSince: Date.now(), bytesReadWhenIdle: 0 });
    socket.once('close', () => connections.delete(socket));
  });
  // 'close' comes after 'finish', i.e. once the last byte has been handed to the kernel (or the socket died):
  // a response ended but still being sent to a slow reader is in flight until then. One listener function
  // for every response, so the hot path allocates no closure for this.
  function onResponseClose(this: ServerResponse): void {
    const socket = this.req.socket as Socket;
    const state = connections.get(socket);
    if (state === undefined || --state.inFlight > 0) return;
    state.idleSince = Date.now();
    state.bytesReadWhenIdle = socket.bytesRead;
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(
      { port: options.port, host: options.host, backlog: options.backlog, reusePort: options.reusePort },
      () => resolve(),
    );
  });
  // net.Server's close, not http.Server's: that one also destroys every idle keep-alive connection at once,
  // and a client that has just sent its next request on one sees a reset, not an answer. It closes the
  // listening socket at once (libuv closes the descriptor in uv_close); its callback runs once the last
  // connection is gone.
  let lastConnectionGone: Promise<void> | undefined;
  const closeListener = () =>
    (lastConnectionGone ??= new Promise((resolve) =>
      net.Server.prototype.close.call(server, () => resolve()),
    ));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    openConnections: () => connections.size,
    connectionCap: cap,
    closeListener: () => void closeListener(),
    drain({ timeoutMs, idleGraceMs }) {
      // From now on a connection that goes idle after a keep-alive response is closed once it has been idle
      // for the grace, by Node's own keep-alive timer (cleared when a request arrives; that request is then
      // answered with `Connection: close` by the caller's draining flag). Nothing already under way is
      // changed: a response in flight, or pipelined behind it, finishes as it began.
      server.keepAliveTimeout = Math.max(1, idleGraceMs);
      server.keepAliveTimeoutBuffer = 0;
      return new Promise((resolve) => {
        // Connections idle since before draining still carry the old, long keep-alive timer: close them
        // once they have been idle for the whole grace, so their clients had all of it to send something.
        // One whose last response closed just after draining began (its 'close' comes a tick after the
        // client has read it, but its timer was set at 'finish', before) is looked at again when its own
        // grace is over, instead of being left to the old timer until the deadline.
        const closeIdle = () => {
          const now = Date.now();
          let soonest = Infinity;
          for (const [socket, state] of connections) {
            if (!isIdle(socket, state)) continue;
            const left = idleGraceMs - (now - state.idleSince);
            if (left <= 0) socket.destroy();
            else soonest = Math.min(soonest, left);
          }
          if (soonest !== Infinity) grace = setTimeout(closeIdle, soonest);
        };
        let grace = setTimeout(closeIdle, idleGraceMs);
        const deadline = setTimeout(() => {
          for (const socket of connections.keys()) socket.destroy();
          done('deadline');
        }, timeoutMs);
        let finished = false;
        function done(outcome: 'drained' | 'deadline') {
          if (finished) return;
          finished = true;
          clearTimeout(grace);
          clearTimeout(deadline);
          // http.Server's close, now that no connection is left, only to stop its connections-checking
          // interval (the listener is closed already, so its callback gets ERR_SERVER_NOT_RUNNING).
          server.close(() => undefined);
          resolve(outcome);
        }
        void closeListener().then(() => done('drained'));
      });
    },
  };
}
