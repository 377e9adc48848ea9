import type { Config } from '../config';
import { buildHttp } from '../composition/http';
import { buildRefresher } from '../composition/refresher';
import { buildCommon } from '../composition/common';
import { shutdownTracing } from '../observability/tracing';
import { listenApi } from '../composition/servers';
import { exposeRegistry, startMetricsServer } from '../observability/metrics-server';

/** WORKERS=0: the refresher, the API and /metrics in one process (small deployments, debugging). */
export async function runStandalone(config: Config): Promise<void> {
  const { logger, metrics, shared } = buildCommon(config);
  let draining = false;
  const http = buildHttp(config, { metrics, logger, shared, isDraining: () => draining });
  const { refresher, close: closeRefresher } = buildRefresher(config, {
    metrics,
    logger,
    shared,
    publish: (snapshot) => http.accept(snapshot),
  });
  const metricsServer = await startMetricsServer({
    host: config.host,
    port: config.metricsPort,
    logger,
    collect: (format) => exposeRegistry(metrics.registry, format),
  });
  const server = await listenApi(config, http, { metrics, logger });
  logger.info('service starting (single process)', { port: server.port, metricsPort: metricsServer.port });

  async function shutdown(signal: string): Promise<void> {
    if (draining) return;
    draining = true;
    logger.info('shutting down: draining', { signal, drainDelayMs: config.drainDelayMs });
    const deadline = setTimeout(() => {
      logger.error('shutdown deadline passed: exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 2000);
    deadline.unref();
    // Readiness already answers 503; keep serving until the load balancer has noticed.
    if (config.drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.drainDelayMs));
    // Streams never end by themselves: they are ended as the listener closes (see worker.ts).
    http.stream.close();
    const [outcome] = await Promise.all([
      server.drain({
        timeoutMs: config.shutdownTimeoutMs - config.drainDelayMs,
        idleGraceMs: config.drainIdleGraceMs,
      }),
      closeRefresher(),
    ]);
    if (outcome === 'deadline') logger.warn('drain deadline passed: open connections destroyed');
    await metricsServer.close();
    await shared.close();
    await http.close();
    await shutdownTracing();
    process.exit(0);
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  await refresher.start();
}
