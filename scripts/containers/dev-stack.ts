import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compose, get, must, REPO, waitFor } from './docker';
import { expectNone, type Report } from './report';

/**
 * The dev stack (docker-compose.dev.yml) on a copy of the repository, so the hot-reload edit never touches
 * the working tree: the copy replaces the `.:/app` mount by an overlay written next to it.
 */
export async function checkDevStack(report: Report, stateDir: string): Promise<void> {
  const copy = join(stateDir, 'dev-copy');
  const overlay = join(stateDir, 'compose.dev-copy.yml');
  await rm(copy, { recursive: true, force: true });
  await mkdir(copy, { recursive: true });
  for (const entry of [
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'service',
    'mock-exchange',
    'scripts',
  ])
    await cp(join(REPO, entry), join(copy, entry), { recursive: true });
  await writeFile(
    overlay,
    [
      'name: eth-usdt-price-dev',
      'services:',
      ...['mock-exchange', 'price-service'].flatMap((s) => [
        `  ${s}:`,
        '    volumes:',
        `      - ${copy}:/app`,
      ]),
      '',
    ].join('\n'),
  );
  const stack = compose(['docker-compose.dev.yml', overlay]);

  const up = await report.check(
    'dev stack (classic builder): mock exchange and service up, price 200',
    async () => {
      const started = Date.now();
      // The classic builder here, BuildKit for the production image: the Dockerfiles need neither a frontend image nor buildx.
      await stack.must(['up', '-d', '--build', '--wait'], { DOCKER_BUILDKIT: '0' });
      const price = await waitFor(
        'price 200 from the mock exchange',
        async () => {
          const r = await get('http://127.0.0.1:8000/api/v1/prices/eth-usdt');
          return r.status === 200 ? r : undefined;
        },
        60_000,
      );
      report.figure('dev stack up to price 200', `${((Date.now() - started) / 1000).toFixed(1)} s`);
      return `price ${price.body.slice(0, 100)}`;
    },
  );

  if (up)
    await report.check('dev stack: a source edit is served after the hot reload', async () => {
      const marker = `0.0.0-hot-reload-${Date.now()}`;
      const spec = join(copy, 'service/openapi.json');
      const openapi = JSON.parse(await readFile(spec, 'utf8')) as { info: { version: string } };
      openapi.info.version = marker;
      await writeFile(spec, JSON.stringify(openapi, null, 2));
      // And a TypeScript source: tsx watch restarts on either.
      const app = join(copy, 'service/src/presentation/index-routes.ts');
      await writeFile(app, `${await readFile(app, 'utf8')}\n// hot reload probe ${marker}\n`);
      const started = Date.now();
      await waitFor(
        `/api/ serving version ${marker}`,
        async () =>
          (await get('http://127.0.0.1:8000/api/', 1000)).body.includes(marker) ? true : undefined,
        60_000,
        250,
      );
      report.figure('edit to served after hot reload', `${((Date.now() - started) / 1000).toFixed(1)} s`);
      return `/api/ serves the edited version after ${((Date.now() - started) / 1000).toFixed(1)} s`;
    });
}

/** `make down` removes every container, network and anonymous volume `make up` and the dev stack made. */
export async function checkDown(report: Report, before: EngineObjects): Promise<void> {
  await report.check('make down: no container, network or volume left behind', async () => {
    await must('make', ['-s', 'down']);
    const after = await engineObjects();
    const problems: string[] = [];
    for (const kind of ['containers', 'networks', 'volumes'] as const) {
      const left = after[kind].filter((x) => !before[kind].includes(x));
      if (left.length > 0) problems.push(`${left.length} ${kind} left: ${left.slice(0, 3).join(', ')}`);
    }
    return expectNone(problems, 'containers, networks and volumes as before make up');
  });
}

export interface EngineObjects {
  containers: string[];
  networks: string[];
  volumes: string[];
}

export async function engineObjects(): Promise<EngineObjects> {
  const list = async (args: string[]) => (await must('docker', args)).trim().split('\n').filter(Boolean);
  return {
    containers: await list(['ps', '-aq']),
    networks: await list(['network', 'ls', '-q']),
    volumes: await list(['volume', 'ls', '-q']),
  };
}
