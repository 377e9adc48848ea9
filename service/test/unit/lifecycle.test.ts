import { createLifecycle } from '../../src/cluster/lifecycle';
import { createLogger } from '../../src/observability/logger';

const logger = createLogger({ level: 'error', service: 'test', silent: true });

function harness(deadlineMs = 10_000) {
  const order: string[] = [];
  const exits: number[] = [];
  let exited!: () => void;
  const done = new Promise<void>((resolve) => (exited = resolve));
  const lifecycle = createLifecycle({
    logger,
    deadlineMs,
    onDeadline: () => order.push('deadline'),
    exit: (code) => {
      exits.push(code);
      exited();
    },
  });
  return { lifecycle, order, exits, done };
}

describe('lifecycle: one shutdown sequence for every process role', () => {
  test('When shutdown starts, then the steps run one after another in order, and the process exits 0', async () => {
    const { lifecycle, order, exits, done } = harness();
    let release!: () => void;
    lifecycle.setSteps([
      {
        name: 'a',
        run: () => new Promise<void>((resolve) => (release = resolve)).then(() => order.push('a')),
      },
      { name: 'b', run: () => order.push('b') },
    ]);
    void lifecycle.shutdown('test');
    await Promise.resolve();
    expect(order).toEqual([]); // b waits for a
    release();
    await done;
    expect(order).toEqual(['a', 'b']);
    expect(exits).toEqual([0]);
  });

  test('When shutdown is asked twice (a second signal), then the steps run once', async () => {
    const { lifecycle, order, exits, done } = harness();
    lifecycle.setSteps([{ name: 'a', run: () => order.push('a') }]);
    const first = lifecycle.shutdown('SIGTERM');
    const second = lifecycle.shutdown('SIGINT');
    expect(second).toBe(first);
    expect(lifecycle.isShuttingDown()).toBe(true);
    await done;
    expect(order).toEqual(['a']);
    expect(exits).toEqual([0]);
  });

  test('When a step fails, then it is logged and the later steps still run', async () => {
    const { lifecycle, order, exits, done } = harness();
    lifecycle.setSteps([
      {
        name: 'redis',
        run: () => Promise.reject(new Error('will not close')),
      },
      { name: 'traces', run: () => order.push('traces') },
    ]);
    void lifecycle.shutdown('test');
    await done;
    expect(order).toEqual(['traces']);
    expect(exits).toEqual([0]);
  });

  test('When the steps outlast the deadline, then onDeadline runs and the process exits 1', async () => {
    jest.useFakeTimers();
    try {
      const { lifecycle, order, exits } = harness(500);
      lifecycle.setSteps([{ name: 'stuck', run: () => new Promise(() => undefined) }]);
      void lifecycle.shutdown('test');
      jest.advanceTimersByTime(499);
      expect(exits).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(order).toEqual(['deadline']);
      expect(exits).toEqual([1]);
    } finally {
      jest.useRealTimers();
    }
  });
});
