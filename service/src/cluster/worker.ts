import type { Config } from '../config';
import { buildCommon } from '../composition/common';
import { buildServing } from '../composition/serving';
import { shutdownTracing } from '../observability/tracing';
import { createSharedHistory } from '../composition/history';
import { createIpcHistory } from './history-ipc';
import { createLifecycle } from './lifecycle';
import { isPrimaryMessage, type WorkerMessage } from './messages';

/** A history query the primary has not answered by then fails (the route answers 503, never hangs). */
const HISTORY_IPC_TIMEOUT_MS = 2_000;

/** A cluster worker: serves the API from L1/L2, fed with snapshots by the primary over IPC. */
export async function runWorker(config: Config): Promise<void> {
  const { logger, metrics, shared } = buildCommon(config);
  const lifecycle = createLifecycle({ logger, deadlineMs: config.shutdownTimeoutMs + 2000 });
  // Before listening: a shutdown during start-up stops what exists and exits cleanly.
  lifecycle.handleSignals();
  // History: Redis when configured (read directly), else the primary's, asked over IPC.
  const ipcHistory = createIpcHistory({
    send: (request) => process.send?.(request, undefined, undefined, () => undefined),
    timeoutMs: HISTORY_IPC_TIMEOUT_MS,
  });
  const history = createSharedHistory(config) ?? ipcHistory;
  const serving = buildServing(config, { metrics, logger, shared, history });
  lifecycle.setSteps([
    ...serving.steps,
    { name: 'close price history', run: () => history.close() },
    { name: 'close Redis', run: () => shared.close() },
    { name: 'flush traces', run: shutdownTracing },
  ]);

  // Nothing in here may throw out of the handler: an IPC message must never take the worker down.
  process.on('message', (message: unknown) => {
    if (!isPrimaryMessage(message) || ipcHistory.receive(message)) return;
    if (message.type === 'snapshot') serving.accept(message.snapshot);
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
  });

  const server = await serving.listen();
  logger.debug('worker listening', { port: server.port });
}
