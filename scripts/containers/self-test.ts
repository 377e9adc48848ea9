import { compose, containerIp, inspect, must, run, waitFor, get } from './docker';
import { drainProblems, startKeepAliveLoad } from './drain';
import { hardeningProblems, readRuntime, redisWrites } from './hardening';
import { BASE, checkImage, checkTuning, MOCK, PRICE, PRODUCTION_IMAGE } from './production';
import { Report } from './report';

/**
 * Each container check run once on a broken input, which it must reject (make test-containers-self-test,
 * after make test-containers has built the images). Exit 1 when a check passes what it should catch.
 */
const broken = (name: string) => `scripts/containers/broken/${name}.yml`;
const outcomes: { name: string; caught: boolean; detail: string }[] = [];

async function expectCaught(name: string, body: () => Promise<string[]>): Promise<void> {
  let problems: string[];
  try {
    problems = await body();
  } catch (error) {
    problems = [(error as Error).message.split('\n')[0] ?? ''];
  }
  const outcome = { name, caught: problems.length > 0, detail: problems.join('; ').slice(0, 300) };
  outcomes.push(outcome);
  process.stdout.write(
    `[self-test] ${outcome.caught ? 'caught' : 'MISSED'} ${name}: ${outcome.detail || 'no problem found'}\n`,
  );
}

/** Runs a Report check and returns its problems (the failure's detail), or none when it passed. */
async function reportProblems(body: (report: Report) => Promise<unknown>): Promise<string[]> {
  const report = new Report();
  await body(report);
  return report.failed.map((r) => `${r.name}: ${r.detail}`);
}

async function main(): Promise<void> {
  await expectCaught('an image with the mock exchange and the compile cache in it', async () => {
    const image = 'eth-usdt-price-self-test-image';
    await must('bash', [
      '-c',
      `printf 'FROM ${PRODUCTION_IMAGE}\\nUSER root\\nRUN mkdir -p /app/dist/mock-exchange /tmp/node-compile-cache\\nUSER node\\n' | DOCKER_BUILDKIT=0 docker build -q -t ${image} -`,
    ]);
    try {
      return await reportProblems((r) => checkImage(r, image));
    } finally {
      await run('docker', ['image', 'rm', image]);
    }
  });

  await expectCaught('a writable root filesystem', async () => {
    const stack = compose([...BASE, broken('writable-root')]);
    await stack.must(['up', '-d', '--wait']);
    return hardeningProblems(await readRuntime(await stack.id('price-service')), {
      uid: '1000',
      writable: ['/tmp/'],
      memoryBytes: 512 * 2 ** 20,
      pids: '256',
    });
  });

  await expectCaught('a healthcheck on a missing binary', async () => {
    const stack = compose([...BASE, broken('healthcheck-missing-binary')]);
    const up = await stack.run(['up', '-d', '--wait']);
    const health = await inspect(await stack.id('price-service'), '{{.State.Health.Status}}');
    return up.code === 0 && health === 'healthy' ? [] : [`up --wait exited ${up.code}, health ${health}`];
  });

  await expectCaught('the Redis tmpfs with mode=1777 (as it was)', async () => {
    const stack = compose([...BASE, broken('redis-tmpfs-mode')]);
    await stack.must(['up', '-d', '--wait']);
    await redisWrites(await stack.id('redis'));
    return [];
  });

  await expectCaught('a stop that does not drain (SIGKILL)', async () => {
    const stack = compose([...MOCK, broken('drain-sigkill')]);
    await stack.must(['up', '-d', '--wait']);
    const id = await stack.id('price-service');
    await waitFor(
      'price 200',
      async () => ((await get(`http://127.0.0.1:8000${PRICE}`)).status === 200 ? true : undefined),
      30_000,
    );
    const load = startKeepAliveLoad(`http://${await containerIp(id)}:8000${PRICE}`, 50);
    await waitFor('load flowing', async () => (load.tally.answered > 500 ? true : undefined), 30_000, 50);
    await stack.run(['stop', 'price-service']);
    const problems = drainProblems(await load.stop());
    const exit = await inspect(id, '{{.State.ExitCode}}');
    return exit === '0' ? problems : [...problems, `exit ${exit}`];
  });

  await expectCaught('a listen backlog below the tuning (LISTEN_BACKLOG=100)', () =>
    reportProblems((r) => checkTuning(r, { LISTEN_BACKLOG: '100' })),
  );

  await run('docker', [
    'compose',
    ...[...MOCK, 'docker-compose.tuning.yml'].flatMap((f) => ['-f', f]),
    'down',
    '-v',
    '--remove-orphans',
  ]);
  const missed = outcomes.filter((o) => !o.caught);
  process.stdout.write(
    `[self-test] ${outcomes.length - missed.length} of ${outcomes.length} broken inputs caught\n`,
  );
  if (missed.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`[self-test] ${String(error)}\n`);
  process.exitCode = 1;
});
