import { z } from 'zod';
import type { RedisNode, RedisTopology } from '../../infrastructure/redis/redis-client';
import { composite, custom, int, raw, type ParseContext } from '../setting';
import { splitList } from './lists';

const REDIS_URL = custom(
  {
    env: 'REDIS_URL',
    doc: 'one Redis node: `redis://` or `rediss://` (TLS), credentials and db in the URL; unset with no other Redis setting = L1 only. Set only one of `REDIS_URL`, `REDIS_SENTINELS`, `REDIS_CLUSTER_NODES`',
    example: 'redis://localhost:6379',
  },
  z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
);
const REDIS_SENTINELS = raw({
  env: 'REDIS_SENTINELS',
  doc: 'Redis Sentinel: comma-separated `host:port` of the sentinels (port defaults to 26379); needs `REDIS_SENTINEL_NAME`',
  example: '10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379',
});
const REDIS_SENTINEL_NAME = custom(
  {
    env: 'REDIS_SENTINEL_NAME',
    doc: 'the master name the sentinels monitor (`sentinel monitor <name> …`); required with `REDIS_SENTINELS`',
    example: 'prices',
  },
  z.string().trim().min(1).optional(),
);
const REDIS_SENTINEL_USERNAME = raw({
  env: 'REDIS_SENTINEL_USERNAME',
  trim: false,
  doc: "the sentinels' own username (Sentinel only)",
});
const REDIS_SENTINEL_PASSWORD = raw({
  env: 'REDIS_SENTINEL_PASSWORD',
  trim: false,
  doc: "the sentinels' own password (Sentinel only)",
});
const REDIS_CLUSTER_NODES = raw({
  env: 'REDIS_CLUSTER_NODES',
  doc: 'Redis Cluster: comma-separated seed `host:port` (port defaults to 6379); db 0 only',
  example: '10.0.1.1:6379,10.0.1.2:6379,10.0.1.3:6379',
});
const REDIS_USERNAME = raw({
  env: 'REDIS_USERNAME',
  trim: false,
  doc: 'username of the data nodes with Sentinel or Cluster (with `REDIS_URL` it goes in the URL, and this is refused)',
});
const REDIS_PASSWORD = raw({
  env: 'REDIS_PASSWORD',
  trim: false,
  doc: 'password of the data nodes with Sentinel or Cluster (with `REDIS_URL` it goes in the URL, and this is refused)',
});
const REDIS_TLS = custom(
  {
    env: 'REDIS_TLS',
    defaultDoc: '`false`',
    doc: '`true`: TLS to the data nodes (and the sentinels) with Sentinel or Cluster (with `REDIS_URL` use `rediss://`)',
    example: 'false',
  },
  z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .optional()
    .transform((v) => v === 'true'),
);

const REDIS_VARIABLES = [
  REDIS_URL,
  REDIS_SENTINELS,
  REDIS_SENTINEL_NAME,
  REDIS_SENTINEL_USERNAME,
  REDIS_SENTINEL_PASSWORD,
  REDIS_CLUSTER_NODES,
  REDIS_USERNAME,
  REDIS_PASSWORD,
  REDIS_TLS,
] as const;

/** The Redis L2, shared by workers and replicas: Config.redis. */
export const redisSettings = {
  redis: {
    /** The single-node URL; undefined with Sentinel or Cluster (or no Redis). */
    url: REDIS_URL,
    /** Where Redis is, whichever way it was configured; undefined = no Redis (L1 only). */
    topology: composite(REDIS_VARIABLES, parseRedisTopology),
    keyPrefix: custom(
      {
        env: 'REDIS_KEY_PREFIX',
        default: 'price-service:',
        doc: "prefix of every Redis key; no `{` or `}`: each pair's keys carry their own hash tag (`price-service:{eth-usdt}:…`), so they share a Cluster slot",
        k8s: {},
      },
      z
        .string()
        .regex(/^[^{}]*$/, 'must not contain { or }: the keys carry their own hash tag per pair')
        .optional()
        .default('price-service:'),
    ),
    commandTimeoutMs: int({
      env: 'REDIS_COMMAND_TIMEOUT_MS',
      min: 10,
      max: 10_000,
      default: 250,
      unit: 'ms',
      doc: 'a slower Redis command counts as Redis being down for that call',
      k8s: {},
    }),
  },
};

/**
 * One of three mutually exclusive forms: REDIS_URL (one node; TLS and credentials in the URL), REDIS_SENTINELS
 * with REDIS_SENTINEL_NAME, or REDIS_CLUSTER_NODES (with REDIS_USERNAME / REDIS_PASSWORD / REDIS_TLS for the
 * data nodes, and REDIS_SENTINEL_USERNAME / REDIS_SENTINEL_PASSWORD for the sentinels). Every problem is
 * reported, whatever else failed.
 */
function parseRedisTopology({ env, failed, problem }: ParseContext): RedisTopology | undefined {
  const given = REDIS_VARIABLES.map((s) => s.env).filter((name) => env[name] !== undefined);
  const url = env.REDIS_URL;
  const sentinelsText = env.REDIS_SENTINELS;
  const clusterText = env.REDIS_CLUSTER_NODES;
  const forms = [
    url === undefined ? undefined : 'REDIS_URL',
    sentinelsText === undefined ? undefined : 'REDIS_SENTINELS',
    clusterText === undefined ? undefined : 'REDIS_CLUSTER_NODES',
  ].filter((form) => form !== undefined);
  if (forms.length > 1) {
    problem(`${forms.join(', ')}: set only one of them (one node, Sentinel or Cluster)`);
    return undefined;
  }
  if (forms.length === 0) {
    if (given.length > 0) {
      problem(
        `${given.join(', ')}: set only with REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES (Redis is off without one)`,
      );
    }
    return undefined;
  }
  const tls = env.REDIS_TLS === 'true';
  const credentials = { username: env.REDIS_USERNAME, password: env.REDIS_PASSWORD };
  const misplaced = (names: readonly string[], why: string) => {
    const set = names.filter((name) => env[name] !== undefined);
    if (set.length > 0) problem(`${set.join(', ')}: ${why}`);
  };
  if (url !== undefined) {
    misplaced(
      ['REDIS_USERNAME', 'REDIS_PASSWORD', 'REDIS_TLS'],
      'not with REDIS_URL: put credentials in the URL (redis://user:password@host:port) and use rediss:// for TLS',
    );
    misplaced(
      ['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_USERNAME', 'REDIS_SENTINEL_PASSWORD'],
      'only with REDIS_SENTINELS',
    );
    return failed.has('REDIS_URL') ? undefined : { kind: 'single', url };
  }
  if (sentinelsText !== undefined) {
    const sentinels = parseNodes('REDIS_SENTINELS', sentinelsText, 26379, problem);
    const name = env.REDIS_SENTINEL_NAME;
    if (name === undefined) {
      problem('REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the master name the sentinels monitor)');
    }
    if (sentinels === undefined || name === undefined || failed.has('REDIS_TLS')) return undefined;
    return {
      kind: 'sentinel',
      sentinels,
      name,
      ...credentials,
      sentinelUsername: env.REDIS_SENTINEL_USERNAME,
      sentinelPassword: env.REDIS_SENTINEL_PASSWORD,
      tls,
    };
  }
  misplaced(
    ['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_USERNAME', 'REDIS_SENTINEL_PASSWORD'],
    'only with REDIS_SENTINELS',
  );
  const nodes = parseNodes('REDIS_CLUSTER_NODES', clusterText ?? '', 6379, problem);
  if (nodes === undefined || failed.has('REDIS_TLS')) return undefined;
  return { kind: 'cluster', nodes, ...credentials, tls };
}

/** `host:port,host:port` (port optional, IPv6 in brackets); undefined after reporting a problem. */
function parseNodes(
  name: string,
  text: string,
  defaultPort: number,
  problem: (message: string) => void,
): RedisNode[] | undefined {
  const items = splitList(text);
  if (items.length === 0) {
    problem(`${name}: at least one host:port is required`);
    return undefined;
  }
  const nodes: RedisNode[] = [];
  let ok = true;
  for (const item of items) {
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(item);
    const port = match?.[3] === undefined ? defaultPort : Number(match[3]);
    const host = match?.[1] ?? match?.[2];
    if (host === undefined || port < 1 || port > 65535) {
      problem(`${name}: "${item}" is not host:port (e.g. 10.0.0.5:${defaultPort} or [::1]:${defaultPort})`);
      ok = false;
    } else if (!nodes.some((n) => n.host === host && n.port === port)) nodes.push({ host, port });
  }
  return ok ? nodes : undefined;
}
