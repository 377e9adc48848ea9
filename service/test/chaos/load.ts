/**
 * The steady load of a chaos run: N keep-alive clients, each on its own connection, each sending
 * GET /api/v1/prices/eth-usdt every `periodMs`, spread over the replicas. Every response is recorded into
 * the current Window (status, and for a 200 the body's ageMs, status, price and timestamp, read with four
 * regexes rather than a JSON parse); the suite swaps windows between faults.
 *
 * Client behaviour, as a client-side load balancer would do it:
 * - each client sticks to one replica; a new connection goes to a replica whose readiness answered 200 at
 *   the last poll (every 200 ms), so a draining replica stops getting new connections;
 * - a connect refused (no request sent) is retried at once on another replica: counted as `refused`;
 * - a GET that fails with a reset on a reused keep-alive connection, before any byte of the answer, is
 *   retried once on a new connection (RFC 9110 §9.2.2 allows it for idempotent requests; browsers, Go's
 *   http.Transport and Envoy do it): counted as `retried`. A second failure, a reset on a fresh connection,
 *   a timeout (5 s) or any other error is a connection error: a failed request.
 * A fifth of the clients send If-None-Match with the last ETag they saw.
 */
import http from 'node:http';

const PATH = '/api/v1/prices/eth-usdt';
const REQUEST_TIMEOUT_MS = 5000;
const PRICE = /"price":"([^"]*)"/;
const TIMESTAMP = /"timestamp":"([^"]*)"/;
const AGE = /"ageMs":(\d+)/;
const STATUS = /"status":"(\w+)"/;

/** Decides whether a served price lies inside the true band for the moment it was sampled. */
export type PriceJudge = (price: number, timestampMs: number) => boolean;

export interface WrongPrice {
  readonly at: number;
  readonly price: string;
  readonly timestamp: string;
  readonly replica: string;
}

export class Window {
  readonly startedAt = Date.now();
  endedAt: number | undefined;
  sent = 0;
  ok2xx = 0;
  notModified = 0;
  readonly non2xx = new Map<number, number>();
  connectionErrors = 0;
  readonly errorKinds = new Map<string, number>();
  refused = 0;
  retried = 0;
  worstAgeMs = 0;
  readonly statuses = new Map<string, number>();
  readonly wrong: WrongPrice[] = [];
  wrongCount = 0;
  /** 503s without a Retry-After header. */
  missingRetryAfter = 0;
  /** 200s older than CACHE_TTL but not flagged stale, or older than MAX_STALENESS. */
  unflaggedStale = 0;
  overMaxStaleness = 0;
  /** Time (ms since the window started) of the first answer of each kind: ok, degraded, stale, 503... */
  readonly firstSeen = new Map<string, number>();
  /** Time of the last answer of each kind. */
  readonly lastSeen = new Map<string, number>();

  constructor(
    readonly name: string,
    private readonly judge: PriceJudge,
    private readonly freshnessMs: number,
    private readonly maxStalenessMs: number,
  ) {}

  private seen(kind: string, now: number) {
    const t = now - this.startedAt;
    if (!this.firstSeen.has(kind)) this.firstSeen.set(kind, t);
    this.lastSeen.set(kind, t);
  }

  recordResponse(status: number, body: string, retryAfter: boolean, replica: string): void {
    const now = Date.now();
    if (status === 304) {
      this.notModified += 1;
      this.seen('304', now);
      return;
    }
    if (status < 200 || status > 299) {
      this.non2xx.set(status, (this.non2xx.get(status) ?? 0) + 1);
      if (status === 503 && !retryAfter) this.missingRetryAfter += 1;
      this.seen(String(status), now);
      return;
    }
    this.ok2xx += 1;
    const state = STATUS.exec(body)?.[1] ?? 'unparsed';
    this.statuses.set(state, (this.statuses.get(state) ?? 0) + 1);
    this.seen(state, now);
    const age = Number(AGE.exec(body)?.[1] ?? NaN);
    if (age > this.worstAgeMs) this.worstAgeMs = age;
    if (age > this.freshnessMs + 1 && state !== 'stale') this.unflaggedStale += 1;
    if (age > this.maxStalenessMs + 1) this.overMaxStaleness += 1;
    const price = PRICE.exec(body)?.[1];
    const timestamp = TIMESTAMP.exec(body)?.[1];
    const timestampMs = timestamp === undefined ? NaN : Date.parse(timestamp);
    if (price === undefined || Number.isNaN(timestampMs) || !this.judge(Number(price), timestampMs)) {
      this.wrongCount += 1;
      if (this.wrong.length < 5) {
        this.wrong.push({ at: now, price: price ?? '?', timestamp: timestamp ?? '?', replica });
      }
    }
  }

  recordError(kind: string): void {
    this.connectionErrors += 1;
    this.errorKinds.set(kind, (this.errorKinds.get(kind) ?? 0) + 1);
    this.seen('error', Date.now());
  }

  get failed(): number {
    let n = this.connectionErrors;
    for (const count of this.non2xx.values()) n += count;
    return n;
  }
}

interface Target {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  ready: boolean;
}

interface Outcome {
  status: number;
  body: string;
  etag: string | undefined;
  retryAfter: boolean;
}

class RequestError extends Error {
  constructor(
    readonly kind: string,
    readonly beforeResponse: boolean,
    readonly reused: boolean,
  ) {
    super(kind);
  }
}

export class LoadGenerator {
  private window: Window;
  private running = false;
  private readonly loops: Promise<void>[] = [];
  private readonly targets: Target[];
  private readinessTimer: NodeJS.Timeout | undefined;

  constructor(
    urls: readonly { name: string; url: string }[],
    private readonly options: { connections: number; periodMs: number },
    initial: Window,
  ) {
    this.window = initial;
    this.targets = urls.map(({ name, url }) => {
      const parsed = new URL(url);
      return { name, host: parsed.hostname, port: Number(parsed.port), ready: true };
    });
  }

  /** Starts recording into a new window; returns the previous one, closed. */
  swap(next: Window): Window {
    const previous = this.window;
    previous.endedAt = Date.now();
    this.window = next;
    return previous;
  }

  start(): void {
    this.running = true;
    const poll = async () => {
      await Promise.all(
        this.targets.map(async (target) => {
          try {
            const response = await fetch(`http://${target.host}:${target.port}/health/readiness`, {
              signal: AbortSignal.timeout(1000),
            });
            await response.arrayBuffer();
            target.ready = response.status === 200;
          } catch {
            target.ready = false;
          }
        }),
      );
      if (this.running) this.readinessTimer = setTimeout(() => void poll(), 200);
    };
    void poll();
    for (let i = 0; i < this.options.connections; i += 1) this.loops.push(this.loop(i));
  }

  async stop(): Promise<Window> {
    this.running = false;
    clearTimeout(this.readinessTimer);
    await Promise.all(this.loops);
    this.window.endedAt = Date.now();
    return this.window;
  }

  /** The client's home replica if it is ready, else the next ready one (else its home anyway). */
  private pick(index: number, avoid?: Target): Target {
    const n = this.targets.length;
    for (let k = 0; k < n; k += 1) {
      const target = this.targets[(index + k) % n] as Target;
      if (target.ready && target !== avoid) return target;
    }
    return this.targets[index % n] as Target;
  }

  private async loop(index: number): Promise<void> {
    const conditional = index % 5 === 4;
    let agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let target = this.pick(index);
    let etag: string | undefined;
    // Spread the clients' phases over the period.
    await new Promise((resolve) =>
      setTimeout(resolve, (index * this.options.periodMs) / this.options.connections),
    );
    while (this.running) {
      const started = Date.now();
      const window = this.window;
      window.sent += 1;
      let retriedReset = false;
      for (;;) {
        try {
          const outcome = await request(agent, target, conditional ? etag : undefined);
          if (outcome.etag !== undefined) etag = outcome.etag;
          window.recordResponse(outcome.status, outcome.body, outcome.retryAfter, target.name);
          break;
        } catch (error) {
          const failure = error as RequestError;
          agent.destroy();
          agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
          if (failure.kind === 'ECONNREFUSED') {
            window.refused += 1;
            // Another replica at once; the same one after a pause if it is the only one.
            const next = this.pick(index, target);
            if (next === target) await new Promise((resolve) => setTimeout(resolve, 50));
            target = next;
            if (!this.running) break;
            continue;
          }
          if (failure.beforeResponse && failure.reused && !retriedReset) {
            retriedReset = true;
            window.retried += 1;
            target = this.pick(index);
            continue;
          }
          window.recordError(failure.kind);
          target = this.pick(index);
          break;
        }
      }
      // A client whose home replica is ready again moves back to it on its next new connection.
      const home = this.pick(index);
      if (home !== target && !target.ready) {
        agent.destroy();
        agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        target = home;
      }
      const wait = this.options.periodMs - (Date.now() - started);
      if (wait > 0 && this.running) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    agent.destroy();
  }
}

function request(agent: http.Agent, target: Target, etag: string | undefined): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let responded = false;
    const req = http.request(
      {
        agent,
        host: target.host,
        port: target.port,
        path: PATH,
        method: 'GET',
        headers: etag === undefined ? undefined : { 'if-none-match': etag },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        responded = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('latin1'),
            etag: res.headers.etag,
            retryAfter: res.headers['retry-after'] !== undefined,
          }),
        );
        res.on('error', (error: NodeJS.ErrnoException) =>
          reject(new RequestError(error.code ?? error.message, false, req.reusedSocket)),
        );
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) =>
      reject(new RequestError(error.code ?? error.message, !responded, req.reusedSocket)),
    );
    req.end();
  });
}
