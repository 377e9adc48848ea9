/**
 * Runs once before all test files: decides how integration tests get a real Redis. Testcontainers when a
 * container runtime answers; otherwise a `redis-server` process on a free port. Never a mock.
 * The choice is passed to test workers through the environment and printed so the log says which ran.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.REDIS_TEST_RUNTIME) return;
  let runtime = 'redis-server';
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        getContainerRuntimeClient(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timed out')), 5000);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
    runtime = 'testcontainers';
  } catch (error) {
    process.stdout.write(
      `\n[redis] no container runtime (${(error as Error).message.split('\n')[0]}): integration tests use a local redis-server process\n`,
    );
  }
  if (runtime === 'testcontainers')
    process.stdout.write('\n[redis] container runtime found: integration tests use Testcontainers\n');
  process.env.REDIS_TEST_RUNTIME = runtime;
}
