import type { Config } from '../config';
import type { buildHttp } from './http';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { startHttpServer, type HttpServer } from '../infrastructure/http/http-server';

/** The API listener as each serving process (a cluster worker, or the only process) starts it. */
export async function listenApi(
  config: Config,
  http: Pick<ReturnType<typeof buildHttp>, 'listener' | 'server'>,
  deps: { metrics: Metrics; logger: Logger },
): Promise<HttpServer> {
  const server = await startHttpServer({
    host: config.host,
    port: config.port,
    backlog: config.listenBacklog,
    listener: http.listener,
    ...http.server,
  });
  deps.metrics.setOpenConnectionsProvider(server.openConnections);
  if (server.connectionCap < config.limits.maxConnectionsPerWorker) {
    deps.logger.warn('MAX_CONNECTIONS_PER_WORKER lowered to fit the open file limit (ulimit -n)', {
      configured: config.limits.maxConnectionsPerWorker,
      applied: server.connectionCap,
    });
  }
  return server;
}
