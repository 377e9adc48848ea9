import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../../scripts/lib/free-port';

// Real multi-node Redis setups on loopback, from Debian's redis-server / redis-sentinel / redis-cli: every
// process on a free port, in a temporary directory removed on stop().

interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  output: string;
}

function requireBinary(name: string): void {
  if (spawnSync(name, ['--version']).error) {
    throw new Error(`${name} is not installed: \`apt-get install -y redis-server redis-sentinel\``);
  }
}

/** Starts a process and resolves once a line of its output matches `ready`. */
async function launch(name: string, command: string, args: string[], ready: RegExp): Promise<Proc> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const proc: Proc = { name, child, output: '' };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${proc.output}`)), 10_000);
    const onData = (chunk: Buffer) => {
      proc.output += chunk.toString();
      if (ready.test(proc.output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${proc.output}`));
    });
  });
  return proc;
}

async function kill(proc: Proc | undefined): Promise<void> {
  if (proc === undefined || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    proc.child.once('exit', () => resolve());
    proc.child.kill('SIGKILL');
  });
}

const EPHEMERAL = ['--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', '--protected-mode', 'no'];

export interface TestSentinel {
  /** `host:port` of the one sentinel, as REDIS_SENTINELS wants it. */
  readonly sentinels: string;
  readonly name: string;
  readonly masterPort: number;
  readonly replicaPort: number;
  /** SIGKILL the current master (the replica is then promoted by the sentinel). */
  killMaster(): Promise<void>;
  /** The port of the master the sentinel reports now. */
  currentMasterPort(): number | undefined;
  stop(): Promise<void>;
}

/**
 * One master, one replica, one sentinel (quorum 1) on loopback. The sentinel declares the master down after
 * `downAfterMs` without an answer and promotes the replica. With `password`, master and replica require it;
 * with `sentinelPassword`, the sentinel requires its own.
 */
export async function startRedisSentinel(
  options: { downAfterMs?: number; password?: string; sentinelPassword?: string } = {},
): Promise<TestSentinel> {
  const auth =
    options.password === undefined
      ? []
      : ['--requirepass', options.password, '--masterauth', options.password];
  requireBinary('redis-server');
  requireBinary('redis-sentinel');
  const dir = mkdtempSync(path.join(tmpdir(), 'redis-sentinel-'));
  const [masterPort, replicaPort, sentinelPort] = [await freePort(), await freePort(), await freePort()];
  const name = 'prices';
  const procs: Proc[] = [];
  try {
    procs.push(
      await launch(
        'master',
        'redis-server',
        ['--port', String(masterPort), '--dir', dir, ...auth, ...EPHEMERAL],
        /ready to accept connections/i,
      ),
    );
    procs.push(
      await launch(
        'replica',
        'redis-server',
        [
          '--port',
          String(replicaPort),
          '--dir',
          dir,
          '--replicaof',
          '127.0.0.1',
          String(masterPort),
          ...auth,
          ...EPHEMERAL,
        ],
        /MASTER <-> REPLICA sync: Finished with success/i,
      ),
    );
    const conf = path.join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        'protected-mode no',
        `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
        ...(options.password === undefined ? [] : [`sentinel auth-pass ${name} ${options.password}`]),
        ...(options.sentinelPassword === undefined ? [] : [`requirepass ${options.sentinelPassword}`]),
        `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${name} 5000`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    // The sentinel has found the replica through the master: it can fail over from now on.
    procs.push(await launch('sentinel', 'redis-sentinel', [conf], /\+slave slave 127\.0\.0\.1:\d+/));
  } catch (error) {
    await Promise.all(procs.map(kill));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const [master, , sentinel] = procs;
  return {
    sentinels: `127.0.0.1:${sentinelPort}`,
    name,
    masterPort,
    replicaPort,
    killMaster: () => kill(master),
    currentMasterPort() {
      const answer = spawnSync('redis-cli', [
        ...(options.sentinelPassword === undefined
          ? []
          : ['-a', options.sentinelPassword, '--no-auth-warning']),
        '-p',
        String(sentinelPort),
        'sentinel',
        'get-master-addr-by-name',
        name,
      ]);
      const port = Number(answer.stdout.toString().trim().split('\n')[1]);
      return Number.isInteger(port) ? port : undefined;
    },
    async stop() {
      await Promise.all(procs.map(kill));
      rmSync(dir, { recursive: true, force: true });
      if (sentinel !== undefined && process.env.TEST_LOGS) process.stdout.write(sentinel.output);
    },
  };
}

export interface TestRedisCluster {
  /** `host:port,…` of every master, as REDIS_CLUSTER_NODES wants it. */
  readonly nodes: string;
  readonly ports: readonly number[];
  stop(): Promise<void>;
}

/**
 * Three masters (no replicas) from `redis-server --cluster-enabled yes` and `redis-cli --cluster create`;
 * with `password`, every node requires it (`requirepass`, and `masterauth` between nodes).
 */
export async function startRedisCluster(options: { password?: string } = {}): Promise<TestRedisCluster> {
  const auth =
    options.password === undefined
      ? []
      : ['--requirepass', options.password, '--masterauth', options.password];
  const cliAuth = options.password === undefined ? [] : ['-a', options.password, '--no-auth-warning'];
  requireBinary('redis-server');
  requireBinary('redis-cli');
  const dir = mkdtempSync(path.join(tmpdir(), 'redis-cluster-'));
  const procs: Proc[] = [];
  const ports: number[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      // The bus port is set explicitly: port + 10000 (the default) may be past 65535 or taken.
      const [port, busPort] = [await freePort(), await freePort()];
      ports.push(port);
      procs.push(
        await launch(
          `node-${port}`,
          'redis-server',
          [
            '--port',
            String(port),
            '--cluster-enabled',
            'yes',
            '--cluster-port',
            String(busPort),
            '--cluster-config-file',
            path.join(dir, `nodes-${port}.conf`),
            '--cluster-node-timeout',
            '2000',
            '--dir',
            dir,
            ...auth,
            ...EPHEMERAL,
          ],
          /ready to accept connections/i,
        ),
      );
    }
    const create = spawnSync(
      'redis-cli',
      [
        ...cliAuth,
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: 20_000 },
    );
    if (create.status !== 0)
      throw new Error(`redis-cli --cluster create failed:\n${create.stdout}${create.stderr}`);
    const until = Date.now() + 15_000;
    for (;;) {
      const states = ports.map((p) =>
        /cluster_state:ok/.test(
          spawnSync('redis-cli', [...cliAuth, '-p', String(p), 'cluster', 'info']).stdout.toString(),
        ),
      );
      if (states.every(Boolean)) break;
      if (Date.now() > until) throw new Error('the cluster did not reach cluster_state:ok');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    await Promise.all(procs.map(kill));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    nodes: ports.map((p) => `127.0.0.1:${p}`).join(','),
    ports,
    async stop() {
      await Promise.all(procs.map(kill));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
