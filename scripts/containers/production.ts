import { compose, containerIp, get, inspect, must, waitFor } from './docker';
import { describeTally, drainProblems, startKeepAliveLoad } from './drain';
import { describeRuntime, hardeningProblems, readRuntime, redisWrites } from './hardening';
import { imageProblems, megabytes, readImage, readImageLayers } from './image';
import { expectNone, type Report } from './report';

export const BASE = ['docker-compose.yml'];
export const MOCK = [...BASE, 'scripts/containers/compose.mock-sources.yml'];
export const PRICE = '/api/v1/prices/eth-usdt';
/** The healthcheck's start_period in docker-compose.yml: the time a restarted replica has to be ready. */
const READINESS_MS = 20_000;
const DRAIN_CLIENTS = 50;

export const PRODUCTION_IMAGE = 'eth-usdt-price-price-service';

/** The production image and the seed's stack (docker-compose.yml): contents, hardening, prices, a drain. */
export async function checkProduction(report: Report): Promise<void> {
  await report.check('production image: builds (BuildKit, no frontend image)', async () => {
    const started = Date.now();
    await must('docker', ['compose', '-f', 'docker-compose.yml', 'build', 'price-service']);
    report.figure('production image build', `${((Date.now() - started) / 1000).toFixed(0)} s`);
    return PRODUCTION_IMAGE;
  });
  await checkImage(report, PRODUCTION_IMAGE);
  await checkStack(report);
}

/** What the image holds: the service and its production dependencies, nothing else. */
export async function checkImage(report: Report, image: string): Promise<boolean> {
  return report.check(`image ${image} holds only the service`, async () => {
    const facts = await readImage(image);
    report.figure(`${image} size`, megabytes(facts.sizeBytes));
    const base = await readImageLayers('node:24-bookworm-slim');
    report.figure('of which the base image', megabytes(base.sizeBytes));
    // The image's own layers: those above the base's.
    const own = facts.layers.slice(0, facts.layers.length - base.layers).filter((l) => l.size !== '0B');
    report.figure(
      `own layers with content (${own.length})`,
      own.map((l) => `${l.size} ${l.createdBy.slice(0, 60)}`).join(' | '),
    );
    return expectNone(
      imageProblems(facts),
      `${megabytes(facts.sizeBytes)}, user ${facts.user}, no tools, caches or dev dependencies`,
    );
  });
}

/**
 * The stack up (make up, or with test overlays: the self-test's broken inputs), then the API, the hardening
 * of both containers, the sources on the mock exchange and a deploy under load.
 */
export async function checkStack(report: Report, overlays: string[] = []): Promise<void> {
  const stack = compose([...BASE, ...overlays]);
  const ups = await report.check(
    `docker compose up -d --wait${overlays.length ? ` with ${overlays.join(', ')}` : ' (make up)'}: healthy`,
    async () => {
      const started = Date.now();
      if (overlays.length === 0) await must('make', ['-s', 'up']);
      else await stack.must(['up', '-d', '--wait']);
      report.figure('make up to healthy (image built)', `${((Date.now() - started) / 1000).toFixed(1)} s`);
      return 'every service healthy';
    },
  );
  if (!ups) return;

  await report.check(
    'API: liveness 200, readiness and price agree on the exchanges reached, metrics on :8001',
    async () => {
      const live = await get('http://127.0.0.1:8000/health/liveness');
      if (live.status !== 200) throw new Error(`liveness ${live.status}`);
      const ready = await get('http://127.0.0.1:8000/health/readiness');
      const price = await get(`http://127.0.0.1:8000${PRICE}`);
      // No exchange reachable (this machine): both 503. With the internet: both 200. Anything else is a bug.
      if (!(ready.status === price.status && [200, 503].includes(ready.status)))
        throw new Error(`readiness ${ready.status} but price ${price.status}: ${price.body.slice(0, 200)}`);
      const metrics = await get('http://127.0.0.1:8001/metrics');
      if (metrics.status !== 200 || !/^http_requests_total|^process_cpu/m.test(metrics.body))
        throw new Error(`metrics ${metrics.status}`);
      return `liveness 200, readiness ${ready.status}, price ${price.status} (${ready.status === 503 ? 'no exchange reachable' : 'exchanges reached'}), metrics 200`;
    },
  );

  await report.check('hardening inside the running service container', async () => {
    const facts = await readRuntime(await stack.id('price-service'));
    const problems = hardeningProblems(facts, {
      uid: '1000',
      writable: ['/tmp/'],
      memoryBytes: 512 * 2 ** 20,
      pids: '256',
    });
    return expectNone(problems, describeRuntime(facts));
  });

  await report.check(
    'hardening inside the running Redis container, and Redis writes to its tmpfs',
    async () => {
      const id = await stack.id('redis');
      const facts = await readRuntime(id);
      const problems = hardeningProblems(facts, {
        uid: '999',
        writable: ['/data/'],
        memoryBytes: 128 * 2 ** 20,
        pids: '64',
      });
      return expectNone(problems, `${describeRuntime(facts)}; ${await redisWrites(id)}`);
    },
  );

  const mocked = compose([...MOCK, ...overlays]);
  const priced = await report.check(
    'sources pointed at the mock exchange by environment: readiness and price 200',
    async () => {
      await mocked.must(['up', '-d', '--wait']);
      const price = await waitFor(
        'a 200 with a price',
        async () => {
          const r = await get(`http://127.0.0.1:8000${PRICE}`);
          return r.status === 200 ? r : undefined;
        },
        30_000,
      );
      const ready = await get('http://127.0.0.1:8000/health/readiness');
      if (ready.status !== 200) throw new Error(`readiness ${ready.status}`);
      return `readiness 200, price ${price.body.slice(0, 120)}`;
    },
  );
  if (priced) await checkDeployUnderLoad(report, mocked);
}

/** docker compose stop under keep-alive load, then up again: nothing lost, exit 0, ready in time. */
async function checkDeployUnderLoad(report: Report, stack: ReturnType<typeof compose>): Promise<void> {
  const id = await stack.id('price-service');
  // The container's own address: the client's TCP connection ends at the service, not at docker-proxy.
  const url = `http://${await containerIp(id)}:8000${PRICE}`;
  await report.check(
    `deploy under load: docker compose stop while ${DRAIN_CLIENTS} keep-alive clients poll`,
    async () => {
      const load = startKeepAliveLoad(url, DRAIN_CLIENTS);
      await waitFor('load flowing', async () => (load.tally.answered > 500 ? true : undefined), 30_000, 50);
      const started = Date.now();
      const stopped = await stack.run(['stop', 'price-service']);
      const stopMs = Date.now() - started;
      const tally = await load.stop();
      const exit = await inspect(id, '{{.State.ExitCode}}');
      report.figure('docker compose stop under load', `${(stopMs / 1000).toFixed(1)} s, exit ${exit}`);
      const problems = drainProblems(tally);
      if (stopped.code !== 0) problems.push(`docker compose stop exited ${stopped.code}`);
      if (exit !== '0') problems.push(`the service exited ${exit}, expected 0`);
      return expectNone(problems, describeTally(tally));
    },
  );

  await report.check('up again after the stop: ready within the start period', async () => {
    const started = Date.now();
    await stack.must(['start', 'price-service']);
    await waitFor(
      'readiness 200',
      async () =>
        (await get('http://127.0.0.1:8000/health/readiness', 1000)).status === 200 ? true : undefined,
      READINESS_MS,
      100,
    );
    const ms = Date.now() - started;
    report.figure('start to readiness 200', `${(ms / 1000).toFixed(1)} s`);
    // waitFor accepts a probe that began before its deadline and answered after it: the limit is checked here.
    if (ms > READINESS_MS)
      throw new Error(`ready after ${(ms / 1000).toFixed(1)} s, over ${READINESS_MS / 1000} s`);
    return `ready in ${(ms / 1000).toFixed(1)} s (limit ${READINESS_MS / 1000} s)`;
  });
}

/** The tuning overlay: the sysctls and the open-files limit read back from inside the container, the backlog from ss. */
export async function checkTuning(report: Report, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const files = [...BASE, 'docker-compose.tuning.yml'];
  const hardLimit = Number((await must('bash', ['-c', 'ulimit -Hn'])).trim());
  const capped = hardLimit < 65536;
  if (capped) files.push('scripts/containers/compose.nofile-cap.yml');
  const expectedNofile = capped ? '20000' : '65536';
  const stack = compose(files);
  await report.check(
    `tuning overlay: sysctls, nofile ${expectedNofile}${capped ? ' (capped: this machine allows 20000)' : ''}, listen backlog`,
    async () => {
      // Listening is all this needs: not --wait, whose first healthcheck probe comes only at its 10 s interval.
      await stack.must(['up', '-d', 'price-service'], env);
      await waitFor(
        'liveness 200',
        async () =>
          (await get('http://127.0.0.1:8000/health/liveness', 1000)).status === 200 ? true : undefined,
        60_000,
        100,
      );
      const id = await stack.id('price-service');
      const read = await must('docker', [
        'exec',
        id,
        'sh',
        '-c',
        "cat /proc/sys/net/core/somaxconn /proc/sys/net/ipv4/tcp_max_syn_backlog; awk '/Max open files/ {print $4}' /proc/1/limits",
      ]);
      const [somaxconn, synBacklog, nofile] = read.trim().split('\n');
      // The image has no ss: run the host's in the container's network namespace. Send-Q of a LISTEN socket is its backlog.
      const pid = await inspect(id, '{{.State.Pid}}');
      // One listening socket per worker (SO_REUSEPORT), each with its own backlog.
      const ss = await must('nsenter', ['-t', pid, '-n', 'ss', '-Hltn', 'sport = :8000']);
      const backlogs = ss
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => line.trim().split(/\s+/)[2]);
      const backlog =
        backlogs.length > 0 && backlogs.every((b) => b === backlogs[0]) ? backlogs[0] : backlogs.join('/');
      const problems: string[] = [];
      if (somaxconn !== '4096') problems.push(`somaxconn ${somaxconn}, expected 4096`);
      if (synBacklog !== '8192') problems.push(`tcp_max_syn_backlog ${synBacklog}, expected 8192`);
      if (nofile !== expectedNofile) problems.push(`nofile ${nofile}, expected ${expectedNofile}`);
      if (backlog !== '4096') problems.push(`listen backlog ${backlog}, expected 4096 (LISTEN_BACKLOG)`);
      return expectNone(
        problems,
        `somaxconn ${somaxconn}, tcp_max_syn_backlog ${synBacklog}, nofile ${nofile}, :8000 backlog ${backlog} on each of ${backlogs.length} listening sockets`,
      );
    },
  );
}
