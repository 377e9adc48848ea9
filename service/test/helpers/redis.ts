import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePort } from '../../../scripts/lib/free-port';
import { redisServerArgs } from '../../../scripts/lib/local-stack';
import { REDIS_TEST_IMAGE } from './redis-runtime';

/** A real Redis for one test file: killable and restartable on the same port. */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  readonly runtime: 'testcontainers' | 'redis-server';
  /** Hard stop (SIGKILL / container stop): clients see the connection drop. */
  kill(): Promise<void>;
  /** Start again on the same port, empty. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** The runtime global-setup.ts chose (redis-runtime.ts): Testcontainers or a redis-server process. */
export async function startRedis(): Promise<TestRedis> {
  const runtime = process.env.REDIS_TEST_RUNTIME === 'testcontainers' ? 'testcontainers' : 'redis-server';
  return runtime === 'testcontainers' ? startContainer() : startProcess();
}

export { freePort };

async function startProcess(): Promise<TestRedis> {
  const which = spawnSync('redis-server', ['--version']);
  if (which.error) {
    throw new Error('redis-server is not installed: `apt-get install -y redis-server` (.ci/run does this)');
  }
  const port = await freePort();
  let child: ChildProcess | undefined;

  async function launch(): Promise<void> {
    const proc = spawn('redis-server', redisServerArgs(port), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
      proc.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (/ready to accept connections/i.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${output}`));
      });
    });
  }

  async function kill(): Promise<void> {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  }

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    runtime: 'redis-server',
    kill,
    restart: launch,
    stop: kill,
  };
}

/**
 * A Redis container on a fixed host port (restart() comes back on the same one). The image is the local one
 * global setup found (the default pull policy pulls only a missing image); no reaper runs
 * (TESTCONTAINERS_RYUK_DISABLED), so stop() removes the container and every test file calls it in teardown.
 */
async function startContainer(): Promise<TestRedis> {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  const { RedisContainer } = await import('@testcontainers/redis');
  const port = await freePort();
  const container = new RedisContainer(REDIS_TEST_IMAGE)
    .withExposedPorts({ container: 6379, host: port })
    .withCommand(['redis-server', '--save', '', '--appendonly', 'no']);
  let started: Awaited<ReturnType<typeof container.start>> | undefined = await container.start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    runtime: 'testcontainers',
    async kill() {
      await started?.stop({ timeout: 0 });
      started = undefined;
    },
    async restart() {
      started = await container.start();
    },
    async stop() {
      await started?.stop({ timeout: 0 });
      started = undefined;
    },
  };
}
