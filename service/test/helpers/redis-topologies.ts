import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../../scripts/lib/free-port';
import type { RedisTopology } from '../../src/infrastructure/redis/redis-client';

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
  /** `host:port,…` of every sentinel, as REDIS_SENTINELS wants it. */
  readonly sentinels: string;
  readonly sentinelPorts: readonly number[];
  readonly name: string;
  readonly masterPort: number;
  readonly replicaPort: number;
  /** SIGKILL the current master (the replica is then promoted by the sentinel). */
  killMaster(): Promise<void>;
  /** The port of the master the (first) sentinel reports now. */
  currentMasterPort(): number | undefined;
  /** How the service's Redis client reaches this setup, credentials included. */
  readonly topology: RedisTopology;
  stop(): Promise<void>;
}

/**
 * One master, one replica and `sentinels` sentinels (1 by default; the quorum is a majority of them) on
 * loopback. The sentinels declare the master down after `downAfterMs` without an answer and promote the
 * replica. With `password`, master and replica require it; with `sentinelPassword`, the sentinels require
 * their own.
 */
export async function startRedisSentinel(
  options: { downAfterMs?: number; password?: string; sentinelPassword?: string; sentinels?: number } = {},
): Promise<TestSentinel> {
  const auth =
    options.password === undefined
      ? []
      : ['--requirepass', options.password, '--masterauth', options.password];
  requireBinary('redis-server');
  requireBinary('redis-sentinel');
  const dir = mkdtempSync(path.join(tmpdir(), 'redis-sentinel-'));
  const [masterPort, replicaPort] = [await freePort(), await freePort()];
  const sentinelPorts: number[] = [];
  for (let i = 0; i < (options.sentinels ?? 1); i++) sentinelPorts.push(await freePort());
  const quorum = Math.floor(sentinelPorts.length / 2) + 1;
  const sentinelCli = (port: number, ...command: string[]) =>
    spawnSync('redis-cli', [
      ...(options.sentinelPassword === undefined
        ? []
        : ['-a', options.sentinelPassword, '--no-auth-warning']),
      '-p',
      String(port),
      ...command,
    ]).stdout.toString();
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
    for (const sentinelPort of sentinelPorts) {
      // One file per sentinel: a sentinel rewrites its own (the replica, the other sentinels, its id).
      const conf = path.join(dir, `sentinel-${sentinelPort}.conf`);
      writeFileSync(
        conf,
        [
          `port ${sentinelPort}`,
          'bind 127.0.0.1',
          'protected-mode no',
          `dir ${dir}`,
          `sentinel monitor ${name} 127.0.0.1 ${masterPort} ${quorum}`,
          ...(options.password === undefined ? [] : [`sentinel auth-pass ${name} ${options.password}`]),
          ...(options.sentinelPassword === undefined ? [] : [`requirepass ${options.sentinelPassword}`]),
          `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${name} 5000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      // The sentinel has found the replica through the master: it can fail over from now on.
      procs.push(
        await launch(`sentinel-${sentinelPort}`, 'redis-sentinel', [conf], /\+slave slave 127\.0\.0\.1:\d+/),
      );
    }
    // Several sentinels must know one another (their hellos, every 2 s) to reach a majority for a failover.
    const until = Date.now() + 15_000;
    while (
      sentinelPorts.length > 1 &&
      !sentinelPorts.every((port) =>
        sentinelCli(port, 'sentinel', 'ckquorum', name).startsWith(`OK ${sentinelPorts.length} usable`),
      )
    ) {
      if (Date.now() > until) throw new Error('the sentinels did not find one another');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    await Promise.all(procs.map(kill));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const [master] = procs;
  return {
    sentinels: sentinelPorts.map((port) => `127.0.0.1:${port}`).join(','),
    sentinelPorts,
    name,
    masterPort,
    replicaPort,
    killMaster: () => kill(master),
    currentMasterPort() {
      const answer = sentinelCli(sentinelPorts[0]!, 'sentinel', 'get-master-addr-by-name', name);
      const port = Number(answer.trim().split('\n')[1]);
      return Number.isInteger(port) ? port : undefined;
    },
    topology: {
      kind: 'sentinel',
      sentinels: sentinelPorts.map((port) => ({ host: '127.0.0.1', port })),
      name,
      username: undefined,
      password: options.password,
      sentinelUsername: undefined,
      sentinelPassword: options.sentinelPassword,
      tls: false,
    },
    async stop() {
      await Promise.all(procs.map(kill));
      rmSync(dir, { recursive: true, force: true });
      if (process.env.TEST_LOGS) for (const p of procs.slice(2)) process.stdout.write(p.output);
    },
  };
}

export interface TestRedisCluster {
  /** `host:port,…` of every master, as REDIS_CLUSTER_NODES wants it. */
  readonly nodes: string;
  readonly ports: readonly number[];
  /** How the service's Redis client reaches this setup, credentials included. */
  readonly topology: RedisTopology;
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
    topology: {
      kind: 'cluster',
      nodes: ports.map((port) => ({ host: '127.0.0.1', port })),
      username: undefined,
      password: options.password,
      tls: false,
    },
    async stop() {
      await Promise.all(procs.map(kill));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
