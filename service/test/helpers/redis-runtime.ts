/**
 * How the integration tests get a real Redis, decided once per run (Jest global setup) and passed to the
 * test workers in the environment: Testcontainers when a container engine answers AND holds the Redis image
 * (nothing is pulled: CI and many laptops reach no registry); otherwise a `redis-server` process. Never a
 * failed test for the environment, and one line in the log saying which and why.
 */
export const REDIS_TEST_IMAGE = process.env.REDIS_TEST_IMAGE ?? 'redis:7.4-alpine';

export type RedisRuntime = 'testcontainers' | 'redis-server';

export interface RuntimeChoice {
  runtime: RedisRuntime;
  reason: string;
}

const PROBE_TIMEOUT_MS = 5000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what} did not answer within ${PROBE_TIMEOUT_MS} ms`)),
        PROBE_TIMEOUT_MS,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

/** REDIS_TEST_RUNTIME=redis-server|testcontainers forces a runtime (CI runs the suites both ways). */
export async function chooseRedisRuntime(env: NodeJS.ProcessEnv = process.env): Promise<RuntimeChoice> {
  const forced = env.REDIS_TEST_RUNTIME;
  if (forced === 'redis-server')
    return { runtime: 'redis-server', reason: 'REDIS_TEST_RUNTIME=redis-server' };
  // The reaper is an image of its own (testcontainers/ryuk) that would be pulled: the helpers stop their containers.
  env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  let client: Awaited<ReturnType<typeof import('testcontainers').getContainerRuntimeClient>>;
  let ImageName: typeof import('testcontainers').ImageName;
  try {
    const testcontainers = await import('testcontainers');
    ImageName = testcontainers.ImageName;
    client = await withTimeout(testcontainers.getContainerRuntimeClient(), 'the container engine');
  } catch (error) {
    return fallback(forced, `no container engine (${firstLine(error)})`);
  }
  try {
    const present = await withTimeout(
      client.image.exists(ImageName.fromString(REDIS_TEST_IMAGE)),
      'the image list',
    );
    if (!present)
      return fallback(
        forced,
        `the engine has no ${REDIS_TEST_IMAGE} image and none is pulled (scripts/containers/base-images.sh builds one offline)`,
      );
  } catch (error) {
    return fallback(forced, `the engine could not list images (${firstLine(error)})`);
  }
  return { runtime: 'testcontainers', reason: `container engine with ${REDIS_TEST_IMAGE} present locally` };
}

function fallback(forced: string | undefined, reason: string): RuntimeChoice {
  if (forced === 'testcontainers') throw new Error(`REDIS_TEST_RUNTIME=testcontainers, but ${reason}`);
  return { runtime: 'redis-server', reason };
}

function firstLine(error: unknown): string {
  return ((error as Error).message ?? String(error)).split('\n')[0] ?? '';
}
