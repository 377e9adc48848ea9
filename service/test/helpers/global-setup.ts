import { chooseRedisRuntime } from './redis-runtime';

/**
 * Runs once before all test files: decides how integration tests get a real Redis (redis-runtime.ts), passes
 * the choice to the test workers through the environment and prints it with its reason, so the log says
 * which ran. Never a mock.
 */
export default async function globalSetup(): Promise<void> {
  const choice = await chooseRedisRuntime();
  process.env.REDIS_TEST_RUNTIME = choice.runtime;
  const how = choice.runtime === 'testcontainers' ? 'Testcontainers' : 'a local redis-server process';
  process.stdout.write(`\n[redis] integration tests use ${how}: ${choice.reason}\n`);
}
