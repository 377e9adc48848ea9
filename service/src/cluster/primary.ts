import cluster, { type Worker } from 'node:cluster';
import net from 'node:net';
import type { PriceSnapshot } from '../application/price-snapshot';
import type { Config } from '../config';
import { workerConfigEnv } from '../config/worker-config';
import { buildRefresher } from '../composition/refresher';
import { buildCommon } from '../composition/common';
import { createHistoryStore, startHistoryWriter } from '../composition/history';
import { listenMetrics } from '../composition/servers';
import { exposeAggregated, type MetricsJson } from '../observability/metrics-server';
import { shutdownTracing } from '../observability/tracing';
import { createLifecycle } from './lifecycle';
import type { PrimaryMessage, WorkerMessage } from './messages';
import { answerPrimaryQuery } from './primary-queries';

const WORKER_METRICS_TIMEOUT_MS = 1000;
/** A worker that lived this long was healthy: its crash does not extend the respawn backoff. */
const STABLE_WORKER_MS = 30_000;
const MAX_RESPAWN_DELAY_MS = 10_000;
/** How often the Redis connection's status is checked, to tell the workers when it changed. */
const L2_STATUS_CHECK_MS = 500;

/**
 * Fails if another process listens on the API port. The workers bind it with SO_REUSEPORT, which a second
 * instance started by mistake would share silently (the kernel would spread connections over both) instead
 * of failing with EADDRINUSE: a socket without SO_REUSEPORT is refused where any other one is bound.
 */
async function claimPort(config: Config): Promise<void> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen({ port: config.port, host: config.host, exclusive: true }, () => resolve());
  });
  await new Promise((resolve) => probe.close(resolve));
}

/**
 * The cluster primary: forks the workers and respawns crashed ones with backoff, runs the replica's single
 * refresher (so upstream calls do not multiply with workers) and pushes its snapshots to every worker, serves
 * /metrics aggregated over itself and all workers, and drains everything on SIGTERM/SIGINT.
 */
export async function runPrimary(config: Config): Promise<void> {
  const { logger, metrics, shared } = buildCommon(config);
  const latest = new Map<string, PriceSnapshot>();
  const forkedAt = new Map<number, number>();
  let consecutiveCrashes = 0;

  const send = (worker: Worker, message: PrimaryMessage) => {
    if (worker.isConnected()) worker.send(message, undefined, () => undefined);
  };
  const workers = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  const lifecycle = createLifecycle({
    logger,
    deadlineMs: config.shutdownTimeoutMs + 2000,
    onDeadline: () => {
      for (const worker of workers()) worker.process.kill('SIGKILL');
    },
  });
  lifecycle.handleSignals();
  const shuttingDown = lifecycle.isShuttingDown;

  // The replica's price history: written here, behind the refresher's publish. In Redis, which workers read
  // themselves; without Redis in memory here, and workers ask this process (primary-queries.ts).
  const history = createHistoryStore(config);
  const historyWriter = startHistoryWriter(config, { history, metrics, logger });
  const { refresher, close: closeRefresher } = buildRefresher(config, {
    metrics,
    logger,
    shared,
    publish(snapshot) {
      latest.set(snapshot.pair, snapshot);
      for (const worker of workers()) send(worker, { type: 'snapshot', snapshot });
      historyWriter.record(snapshot);
    },
  });

  // Workers allocate briefly per request and keep almost nothing: a small young generation keeps their RSS
  // down under load at no measurable throughput cost (docs/performance.md). Flags given on the command
  // line come after, so they win.
  cluster.setupPrimary({ execArgv: ['--max-semi-space-size=4', ...process.execArgv] });

  // Workers take this process's validated config rather than parse the environment again (worker-config.ts).
  const workerEnv = workerConfigEnv(config);
  function fork(): void {
    const worker = cluster.fork(workerEnv);
    forkedAt.set(worker.id, Date.now());
    metrics.workersAlive(workers().length);
  }

  // Not on 'online': a worker comes online before its code has a listener for messages, and what is sent
  // to it then is lost (a shutdown too, which left a worker starting at SIGTERM serving until SIGKILL).
  const ready = new Set<number>();
  let l2Status = shared.status();
  const l2StatusCheck = setInterval(() => {
    const now = shared.status();
    if (now === l2Status) return;
    l2Status = now;
    for (const id of ready) {
      const worker = cluster.workers?.[id];
      if (worker !== undefined) send(worker, { type: 'l2-status', status: now });
    }
  }, L2_STATUS_CHECK_MS);
  l2StatusCheck.unref();
  function onReady(worker: Worker): void {
    ready.add(worker.id);
    send(worker, { type: 'l2-status', status: l2Status });
    for (const snapshot of latest.values()) send(worker, { type: 'snapshot', snapshot });
    if (shuttingDown()) send(worker, { type: 'shutdown' });
  }
  // The drain's barrier: a worker tells its clients to close only once no worker listens any more, or a
  // client reconnecting at once could be accepted by a listener about to close, and reset (serving.ts).
  const listenerClosed = new Set<number>();
  function releaseIfNoneListens(): void {
    const live = workers().filter((w) => !w.isDead());
    if (live.length === 0 || !live.every((w) => listenerClosed.has(w.id))) return;
    for (const worker of live) send(worker, { type: 'listeners-closed' });
  }
  cluster.on('message', (worker, message: WorkerMessage) => {
    // Workers read L2 (and, without Redis, the history) through this process: the answer goes back to the
    // asking worker.
    answerPrimaryQuery({ history, shared }, message, (response) => send(worker, response));
    if (message?.type === 'ready') onReady(worker);
    if (message?.type !== 'listener-closed') return;
    listenerClosed.add(worker.id);
    releaseIfNoneListens();
  });
  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (forkedAt.get(worker.id) ?? Date.now());
    forkedAt.delete(worker.id);
    listenerClosed.delete(worker.id);
    ready.delete(worker.id);
    releaseIfNoneListens();
    metrics.workersAlive(workers().length);
    if (shuttingDown()) return;
    consecutiveCrashes = lived >= STABLE_WORKER_MS ? 1 : consecutiveCrashes + 1;
    const delay = Math.min(100 * 2 ** (consecutiveCrashes - 1), MAX_RESPAWN_DELAY_MS);
    metrics.workerRestarted();
    logger.error('worker exited unexpectedly; forking a new one', {
      workerId: worker.id,
      code,
      signal,
      delayMs: delay,
    });
    setTimeout(() => {
      if (!shuttingDown()) fork();
    }, delay);
  });

  let nextRequestId = 0;
  function workerMetrics(worker: Worker): Promise<MetricsJson | undefined> {
    return new Promise((resolve) => {
      const id = ++nextRequestId;
      const timer = setTimeout(() => {
        worker.off('message', onMessage);
        resolve(undefined); // a busy or dying worker must not fail the scrape
      }, WORKER_METRICS_TIMEOUT_MS);
      function onMessage(message: WorkerMessage) {
        if (message?.type !== 'metrics-response' || message.id !== id) return;
        clearTimeout(timer);
        worker.off('message', onMessage);
        resolve(message.metrics as MetricsJson);
      }
      worker.on('message', onMessage);
      send(worker, { type: 'metrics-request', id });
    });
  }

  await claimPort(config);
  const metricsServer = await listenMetrics(config, {
    logger,
    async collect(format) {
      const own = await metrics.registry.getMetricsAsJSON();
      const fromWorkers = await Promise.all(workers().map(workerMetrics));
      // Summed or maxed per series by each metric's aggregator; in OpenMetrics, with the workers' exemplars.
      return exposeAggregated([own, ...fromWorkers.filter((m) => m !== undefined)], format);
    },
  });

  for (let i = 0; i < config.workers; i++) fork();
  logger.info('service starting', {
    port: config.port,
    metricsPort: metricsServer.port,
    workers: config.workers,
    sources: config.sources.map((s) => s.name),
    pairs: config.pairs.map((p) => p.symbol),
    redis: config.redis.topology === undefined ? 'disabled (L1 only)' : config.redis.topology.kind,
  });

  /** Workers drain themselves when asked; the refresher keeps them fed with prices until they are gone. */
  function workersExited(): Promise<unknown> {
    const exited = Promise.all(
      workers().map(
        (worker) =>
          new Promise<void>((resolve) =>
            worker.isDead() ? resolve() : worker.once('exit', () => resolve()),
          ),
      ),
    );
    // One still starting serves nothing yet and would not hear the message: a signal ends it (its own
    // handler drains it if it has one by then).
    for (const worker of workers()) {
      if (ready.has(worker.id)) send(worker, { type: 'shutdown' });
      else worker.process.kill('SIGTERM');
    }
    return exited;
  }
  lifecycle.setSteps([
    { name: 'drain the workers', run: workersExited },
    { name: 'stop the refresher', run: closeRefresher },
    historyWriter.step,
    { name: 'close /metrics', run: () => metricsServer.close() },
    {
      name: 'close Redis',
      run: () => {
        clearInterval(l2StatusCheck);
        return shared.close();
      },
    },
    { name: 'flush traces', run: shutdownTracing },
  ]);

  await refresher.start();
}
