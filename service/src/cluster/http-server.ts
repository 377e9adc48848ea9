import http, { type RequestListener } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';

export interface DrainOptions {
  /** Past this, whatever is still open is destroyed. */
  readonly timeoutMs: number;
  /** How long an idle keep-alive connection may still bring one more request after the listener closed. */
  readonly idleGraceMs: number;
}

export interface HttpServer {
  readonly server: http.Server;
  readonly port: number;
  /**
   * Stop accepting, give idle keep-alive connections the grace, let in-flight requests finish, destroy what
   * is left at the deadline. The listener must already answer every request with `Connection: close` (the
   * caller's draining flag), so each busy connection ends by itself once its response is written.
   */
  drain(options: DrainOptions): Promise<'drained' | 'deadline'>;
}

/** The API server: listen, and drain on shutdown without dropping requests on keep-alive connections. */
export async function startHttpServer(options: {
  host: string;
  port: number;
  /** Accept queue length; the kernel caps it at net.core.somaxconn. */
  backlog: number;
  listener: RequestListener;
}): Promise<HttpServer> {
  const server = http.createServer(
    // Behind a load balancer with a 60 s idle timeout the server must keep connections longer than it does.
    { keepAliveTimeout: 65_000, headersTimeout: 66_000, requestTimeout: 120_000 },
    options.listener,
  );
  // Per connection, not per request: what drain() needs to reach the responses already under way.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port, host: options.host, backlog: options.backlog }, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    drain({ timeoutMs, idleGraceMs }) {
      // A response begun before draining would still keep its connection alive, and closing that connection
      // later would race the client's next request on it. (_httpMessage is the response a socket is writing.)
      for (const socket of sockets) {
        const response = (socket as { _httpMessage?: http.ServerResponse | null })._httpMessage;
        if (response && !response.headersSent) response.shouldKeepAlive = false;
      }
      return new Promise((resolve) => {
        let sweep: NodeJS.Timeout | undefined;
        // An idle connection has not been told `Connection: close` yet. Its client gets the grace to send one
        // more request, answered with it; only a client idle for all of the grace can still race the close.
        const grace = setTimeout(() => {
          server.closeIdleConnections();
          // Whatever the loop above could not reach (a pipelined response) ends idle too.
          sweep = setInterval(() => server.closeIdleConnections(), 100);
        }, idleGraceMs);
        const deadline = setTimeout(() => {
          server.closeAllConnections();
          done('deadline');
        }, timeoutMs);
        function done(outcome: 'drained' | 'deadline') {
          clearTimeout(grace);
          clearTimeout(deadline);
          clearInterval(sweep);
          resolve(outcome);
        }
        // net.Server's close, not http.Server's: that one also destroys every idle keep-alive connection at
        // once, and a client that has just sent its next request on one sees a reset, not an answer. The
        // callback runs once the last connection is gone.
        net.Server.prototype.close.call(server, () => done('drained'));
      });
    },
  };
}
