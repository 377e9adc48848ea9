import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/** Where Redis is and how to log in: one node, a Sentinel-managed master, or a Cluster. */
export type RedisTopology =
  | {
      readonly kind: 'single';
      /** `redis://` or `rediss://` (TLS), credentials and db in the URL. */
      readonly url: string;
    }
  | {
      readonly kind: 'sentinel';
      readonly sentinels: readonly RedisNode[];
      /** The master's name as the sentinels know it (`sentinel monitor <name> …`). */
      readonly name: string;
      /** Credentials of the master and replicas. */
      readonly username: string | undefined;
      readonly password: string | undefined;
      /** Credentials of the sentinels themselves (`requirepass` in sentinel.conf). */
      readonly sentinelUsername: string | undefined;
      readonly sentinelPassword: string | undefined;
      /** TLS to the sentinels and to the master. */
      readonly tls: boolean;
    }
  | {
      readonly kind: 'cluster';
      /** Seed nodes: any reachable one tells the client the rest of the cluster. */
      readonly nodes: readonly RedisNode[];
      readonly username: string | undefined;
      readonly password: string | undefined;
      readonly tls: boolean;
    };

/** What the cache and the rate limiter call on either client (a Redis or a Cluster). */
export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  readonly topology: RedisTopology;
  /** A slower Redis counts as down for that call. */
  readonly commandTimeoutMs: number;
}

/** Reconnect forever, backing off to 2 s: Redis coming back must be noticed without a restart. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 6), 2000);
}

/**
 * The ioredis client for any topology, failing soft the same way everywhere: no offline queue (a command
 * while disconnected fails at once instead of waiting), no retries of a command, a command timeout, and
 * reconnection forever with backoff. Errors are the caller's to count; ioredis emits one on every failed
 * reconnect, so an 'error' listener is attached here (without one, Node would crash the process).
 */
export function createRedisClient(options: RedisClientOptions): RedisClient {
  const { topology, commandTimeoutMs } = options;
  const failSoft: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    connectTimeout: Math.max(1000, commandTimeoutMs * 4),
    retryStrategy: reconnectDelayMs,
  };
  let client: RedisClient;
  switch (topology.kind) {
    case 'single':
      client = new Redis(topology.url, failSoft);
      break;
    case 'sentinel':
      client = new Redis({
        ...failSoft,
        sentinels: topology.sentinels.map(({ host, port }) => ({ host, port })),
        name: topology.name,
        role: 'master',
        username: topology.username,
        password: topology.password,
        sentinelUsername: topology.sentinelUsername,
        sentinelPassword: topology.sentinelPassword,
        // Sentinel's +switch-master is acted on at once instead of on the next failed command.
        failoverDetector: true,
        // Every sentinel unreachable: keep asking, as for a lost master.
        sentinelRetryStrategy: reconnectDelayMs,
        ...(topology.tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
      });
      break;
    case 'cluster': {
      const clusterOptions: ClusterOptions = {
        enableOfflineQueue: false,
        // Whole cluster unreachable: rebuild it from the seed nodes, forever.
        clusterRetryStrategy: reconnectDelayMs,
        // A MOVED/ASK after a failover is followed (the slot map is refreshed), within the command timeout.
        maxRedirections: 4,
        retryDelayOnFailover: 50,
        retryDelayOnClusterDown: 50,
        slotsRefreshTimeout: Math.max(1000, commandTimeoutMs * 4),
        redisOptions: {
          ...failSoft,
          username: topology.username,
          password: topology.password,
          ...(topology.tls ? { tls: {} } : {}),
        },
      };
      client = new Cluster(
        topology.nodes.map(({ host, port }) => ({ host, port })),
        clusterOptions,
      );
      break;
    }
  }
  client.on('error', () => undefined);
  if (client instanceof Redis) reconnectAfterUnaskedEnd(client);
  return client;
}

/** Clients their owner closed (`quit`, `disconnect`): their 'end' is final. */
const closedByOwner = new WeakSet<RedisClient>();

/**
 * ioredis gives up for good (status 'end', no more reconnects) when a connect attempt is cut short rather
 * than failing: with Sentinel, the failover detector's disconnect on `+switch-master` can land while a
 * reconnect is still asking the sentinel for the master, the attempt rejects with "Connection is closed."
 * and the client never tries again (seen as `redis_connection_up` 0 for minutes after a failover on a busy
 * machine). "Reconnect forever" has to mean forever: an 'end' the owner did not ask for is followed by a new
 * connect after the usual backoff.
 */
function reconnectAfterUnaskedEnd(client: Redis): void {
  // ioredis clears its own "closed on purpose" flag before 'end', so the owner's calls are noted here.
  const quit = client.quit.bind(client);
  const disconnect = client.disconnect.bind(client);
  client.quit = ((...args: Parameters<typeof quit>) => {
    closedByOwner.add(client);
    return quit(...args);
  }) as typeof client.quit;
  client.disconnect = (reconnect = false) => {
    if (!reconnect) closedByOwner.add(client);
    disconnect(reconnect);
  };
  let attempts = 0;
  client.on('ready', () => {
    attempts = 0;
  });
  client.on('end', () => {
    if (closedByOwner.has(client)) return;
    const timer = setTimeout(() => {
      if (closedByOwner.has(client) || client.status !== 'end') return;
      client.connect().catch(() => undefined); // a failed attempt ends again and comes back here
    }, reconnectDelayMs(++attempts));
    timer.unref();
  });
}

/**
 * Closes a client for good: pending replies are waited for when connected, otherwise it is dropped. The
 * disconnect after a quit is not redundant: QUIT closes the master connection only, and ioredis leaves the
 * Sentinel failover detector's subscriptions open, reconnecting to the sentinels every minute for the
 * life of the process.
 */
export async function closeRedisClient(client: RedisClient): Promise<void> {
  try {
    await client.quit();
  } catch {
    // not connected: nothing to wait for
  }
  client.disconnect();
}

/** For logs: the topology without credentials. */
export function describeTopology(topology: RedisTopology): string {
  const list = (nodes: readonly RedisNode[]) => nodes.map((n) => `${n.host}:${n.port}`).join(',');
  switch (topology.kind) {
    case 'single':
      return topology.url.replace(/\/\/([^@/]*)@/, '//***@');
    case 'sentinel':
      return `sentinel ${topology.name} via ${list(topology.sentinels)}${topology.tls ? ' (tls)' : ''}`;
    case 'cluster':
      return `cluster via ${list(topology.nodes)}${topology.tls ? ' (tls)' : ''}`;
  }
}

/**
 * The hash tag that keeps one pair's keys in one Cluster slot: `{eth-usdt}`. Put after the prefix, never
 * inside it: braces in the prefix would put every key of the service on one shard.
 */
export function pairTag(pair: string): string {
  return `{${pair}}`;
}
