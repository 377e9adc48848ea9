import type { Config } from '../config';
import { startHttpServer, type HttpServer } from '../infrastructure/http/http-server';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { startMetricsServer, type Exposition, type ExpositionFormat } from '../observability/metrics-server';
import type { HttpParts } from './http';

/** The API listener as each serving process (a cluster worker, or the only process) starts it. */
export async function listenApi(
  config: Config,
  http: Pick<HttpParts, 'listener' | 'server'>,
  deps: { metrics: Metrics; logger: Logger; port?: number; reusePort?: boolean },
): Promise<HttpServer> {
  const server = await startHttpServer({
    host: config.host,
    port: deps.port ?? config.port,
    backlog: config.listenBacklog,
    reusePort: deps.reusePort,
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

/** /metrics on METRICS_PORT, for the process that answers scrapes (the primary, or the only process). */
export function listenMetrics(
  config: Config,
  deps: { logger: Logger; collect: (format: ExpositionFormat) => Promise<Exposition>; port?: number },
): Promise<{ port: number; close(): Promise<void> }> {
  return startMetricsServer({
    host: config.host,
    port: deps.port ?? config.metricsPort,
    logger: deps.logger,
    collect: deps.collect,
  });
}
