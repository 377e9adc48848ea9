import type { ShutdownStep } from '../composition/serving';
import type { Logger } from '../observability/logger';

export interface LifecycleDeps {
  readonly logger: Logger;
  /** The whole shutdown, every step included, must end within this; past it the process exits 1. */
  readonly deadlineMs: number;
  /** Runs when the deadline passes, before the exit (the primary kills its workers). */
  readonly onDeadline?: () => void;
  readonly exit?: (code: number) => void;
}

/**
 * The one shutdown sequence of every process role (cluster primary, worker, single process): signals are
 * handled here once, a role only says which steps it has, and the whole sequence has one deadline. A step
 * that fails is logged and the next one still runs: a Redis that will not close must not keep the process
 * from flushing its traces and exiting.
 */
export function createLifecycle(deps: LifecycleDeps) {
  const exit = deps.exit ?? ((code: number) => process.exit(code));
  let steps: readonly ShutdownStep[] = [];
  let stopping: Promise<void> | undefined;

  async function runSteps(reason: string): Promise<void> {
    deps.logger.info('shutting down', { reason, steps: steps.map((s) => s.name) });
    const deadline = setTimeout(() => {
      deps.logger.error('shutdown deadline passed: exiting', { deadlineMs: deps.deadlineMs });
      deps.onDeadline?.();
      exit(1);
    }, deps.deadlineMs);
    deadline.unref();
    for (const step of steps) {
      const started = performance.now();
      try {
        await step.run();
      } catch (error) {
        deps.logger.error('shutdown step failed', { step: step.name, error });
      }
      deps.logger.debug('shutdown step done', {
        step: step.name,
        ms: Math.round(performance.now() - started),
      });
    }
    clearTimeout(deadline);
    deps.logger.info('shutdown complete', { reason });
    exit(0);
  }

  /** Starts the shutdown once; later calls (a second signal, the primary's request) join the first. */
  function shutdown(reason: string): Promise<void> {
    stopping ??= runSteps(reason);
    return stopping;
  }

  return {
    /** The steps to run on shutdown, in order. Set before listening: a signal may come during start-up. */
    setSteps(list: readonly ShutdownStep[]): void {
      steps = list;
    },
    shutdown,
    isShuttingDown: () => stopping !== undefined,
    /** SIGTERM (the orchestrator) and SIGINT (Ctrl-C) start the shutdown. */
    handleSignals(): void {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void shutdown(signal));
    },
  };
}

export type Lifecycle = ReturnType<typeof createLifecycle>;
