import http, { type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The API server: listen, and drain on shutdown (stop accepting, let in-flight requests finish). */
export async function startHttpServer(options: {
  host: string;
  port: number;
  listener: RequestListener;
}): Promise<{ server: http.Server; port: number; drain(timeoutMs: number): Promise<void> }> {
  const server = http.createServer(
    // Behind a load balancer with a 60 s idle timeout the server must keep connections longer than it does.
    { keepAliveTimeout: 65_000, headersTimeout: 66_000, requestTimeout: 120_000 },
    options.listener,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    drain(timeoutMs) {
      return new Promise<void>((resolve) => {
        const deadline = setTimeout(() => {
          server.closeAllConnections();
          resolve();
        }, timeoutMs);
        deadline.unref();
        server.close(() => {
          clearTimeout(deadline);
          resolve();
        });
        // Idle keep-alive sockets would hold close() open until their timeout; busy ones finish first.
        server.closeIdleConnections();
        const sweep = setInterval(() => server.closeIdleConnections(), 100);
        sweep.unref();
        server.once('close', () => clearInterval(sweep));
      });
    },
  };
}
