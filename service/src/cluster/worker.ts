import type { Config } from '../config';
import { buildHttp } from '../composition/http';
import { buildCommon } from '../composition/common';
import { shutdownTracing } from '../observability/tracing';
import { listenApi } from '../composition/servers';
import type { HttpServer } from '../infrastructure/http/http-server';
import { isPrimaryMessage, type WorkerMessage } from './messages';

/** A cluster worker: serves the API from L1/L2, fed with snapshots by the primary over IPC. */
export async function runWorker(config: Config): Promise<void> {
  const { logger, metrics, shared } = buildCommon(config);
  let draining = false;
  const http = buildHttp(config, { metrics, logger, shared, isDraining: () => draining });

  // Assigned once listening; drain() may run before that (a shutdown during start-up).
  // eslint-disable-next-line prefer-const
  let server: HttpServer | undefined;

  // Nothing in here may throw out of the handler: an IPC message must never take the worker down.
  process.on('message', (message: unknown) => {
    if (!isPrimaryMessage(message)) return;
    if (message.type === 'snapshot') http.accept(message.snapshot);
    else if (message.type === 'metrics-request') {
      metrics.registry.getMetricsAsJSON().then(
        (json) => {
          const reply: WorkerMessage = { type: 'metrics-response', id: message.id, metrics: json };
          // The callback swallows a closed channel (the primary is going away), which would otherwise throw.
          process.send?.(reply, undefined, undefined, () => undefined);
        },
        (error: unknown) => logger.error('metrics collection failed', { error }),
      );
    } else if (message.type === 'shutdown') void drain('primary asked');
  });

  // Registered before listening: a shutdown during start-up drains what exists and exits cleanly.
  process.on('SIGTERM', () => void drain('SIGTERM'));
  process.on('SIGINT', () => void drain('SIGINT'));

  async function drain(reason: string): Promise<void> {
    if (draining) return;
    draining = true;
    logger.info('worker draining', { reason, drainDelayMs: config.drainDelayMs });
    // Readiness already answers 503; keep serving until the load balancer has noticed.
    if (config.drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.drainDelayMs));
    // Streams never end by themselves: they are ended as the listener closes (after the drain delay, while
    // readiness has been 503), so their clients reconnect to a replica that stays.
    const streams = http.stream.close();
    if (streams > 0) logger.info('price streams ended for the drain', { streams });
    const outcome = await server?.drain({
      timeoutMs: config.shutdownTimeoutMs - config.drainDelayMs,
      idleGraceMs: config.drainIdleGraceMs,
    });
    if (outcome === 'deadline') logger.warn('drain deadline passed: open connections destroyed');
    await shared.close();
    await http.close();
    await shutdownTracing();
    process.exit(0);
  }
  server = await listenApi(config, http, { metrics, logger });
  logger.debug('worker listening', { port: server.port });
}
