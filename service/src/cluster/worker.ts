import type { SharedCacheReads } from '../application/ports';
import type { Config } from '../config';
import { buildLogsAndMetrics } from '../composition/logs-and-metrics';
import { buildServing } from '../composition/serving';
import { workerReads } from '../composition/worker-reads';
import { shutdownTracing } from '../observability/tracing';
import { createLifecycle } from './lifecycle';
import { isPrimaryMessage, type WorkerMessage } from './messages';
import { createPrimaryQueries } from './primary-queries';

/** A history query the primary has not answered by then fails (the route answers 503, never hangs). */
const HISTORY_QUERY_TIMEOUT_MS = 2_000;
/** An L2 read waits for the primary's Redis command timeout, and this much for the IPC round trip. */
const SNAPSHOT_QUERY_MARGIN_MS = 500;
/** How long a draining worker waits for the primary to say every worker's listener is closed. */
const LISTENERS_CLOSED_WAIT_MS = 1000;

/**
 * A cluster worker: serves the API from L1, fed with snapshots by the primary over IPC. L2 on an L1 miss is
 * read through the primary (primary-queries.ts), the history from Redis or through the primary
 * (composition/worker-reads.ts); the config is the primary's (main.ts), so a worker loads no schemas.
 */
export async function runWorker(config: Config): Promise<void> {
  const { logger, metrics } = buildLogsAndMetrics(config, { redisConnection: false });
  const lifecycle = createLifecycle({ logger, deadlineMs: config.shutdownTimeoutMs + 2000 });
  // Before listening: a shutdown during start-up stops what exists and exits cleanly.
  lifecycle.handleSignals();
  const queries = createPrimaryQueries({
    send: (request) => process.send?.(request, undefined, undefined, () => undefined),
    historyTimeoutMs: HISTORY_QUERY_TIMEOUT_MS,
    snapshotTimeoutMs: config.redis.commandTimeoutMs + SNAPSHOT_QUERY_MARGIN_MS,
    // The primary counts the outcome of the Redis read it makes; a query it did not answer is counted here.
    snapshotFailed: () => metrics.cacheLookup('l2', 'error'),
  });
  // What the primary last said of its Redis connection ('down' until it first does, at this worker's ready).
  let l2Status: ReturnType<SharedCacheReads['status']> = 'down';
  const { shared, history } = workerReads(config, {
    shared: { getSnapshot: queries.snapshots.getSnapshot, status: () => l2Status },
    history: queries.history,
  });
  let confirmed = false;
  let allListenersClosed: () => void = () => undefined;
  const listenersClosed = new Promise<void>(
    (resolve) =>
      (allListenersClosed = () => {
        confirmed = true;
        resolve();
      }),
  );
  const serving = buildServing(config, {
    metrics,
    logger,
    shared,
    history,
    // Each worker owns its listening socket: the primary accepts nothing for it, so nothing is left in a
    // queue of the primary's when the workers go (docs/deployment.md, "reset before first answer").
    reusePort: true,
    listenersClosed() {
      const reply: WorkerMessage = { type: 'listener-closed' };
      process.send?.(reply, undefined, undefined, () => undefined);
      // The primary answers once every worker has said so; should it not (gone, or this worker leaves alone),
      // the drain goes on after a while rather than hang.
      let timer: NodeJS.Timeout | undefined;
      // Given up from setImmediate, after the poll phase: a worker not scheduled for a while runs its timers
      // before it reads the primary's answer that came meanwhile.
      const waited = new Promise<void>((resolve) => {
        timer = setTimeout(
          () =>
            setImmediate(() => {
              if (confirmed) return;
              logger.warn('the other workers did not confirm their listeners closed; draining anyway', {
                waitedMs: LISTENERS_CLOSED_WAIT_MS,
              });
              resolve();
            }),
          LISTENERS_CLOSED_WAIT_MS,
        );
      });
      return Promise.race([listenersClosed, waited]).finally(() => clearTimeout(timer));
    },
  });
  lifecycle.setSteps([
    ...serving.steps,
    { name: 'close price history', run: () => history.close() },
    { name: 'close the queries to the primary', run: () => queries.close() },
    { name: 'flush traces', run: shutdownTracing },
  ]);

  // Nothing in here may throw out of the handler: an IPC message must never take the worker down.
  process.on('message', (message: unknown) => {
    if (!isPrimaryMessage(message) || queries.receive(message)) return;
    if (message.type === 'snapshot') serving.accept(message.snapshot);
    else if (message.type === 'l2-status') l2Status = message.status;
    else if (message.type === 'metrics-request') {
      metrics.registry.getMetricsAsJSON().then(
        (json) => {
          const reply: WorkerMessage = { type: 'metrics-response', id: message.id, metrics: json };
          // The callback swallows a closed channel (the primary is going away), which would otherwise throw.
          process.send?.(reply, undefined, undefined, () => undefined);
        },
        (error: unknown) => logger.error('metrics collection failed', { error }),
      );
    } else if (message.type === 'shutdown') void lifecycle.shutdown('primary asked');
    else if (message.type === 'listeners-closed') allListenersClosed();
  });
  const ready: WorkerMessage = { type: 'ready' };
  process.send?.(ready, undefined, undefined, () => undefined);

  const server = await serving.listen();
  logger.debug('worker listening', { port: server.port });
}
