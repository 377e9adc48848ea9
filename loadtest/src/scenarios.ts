/**
 * The scenarios and what each one proves. The traffic itself is in loadtest/scenarios/*.yml (plain Artillery
 * files, runnable by hand against any service); this adds what Artillery cannot do: faults injected into
 * the mock exchange mid-run, a service started during the ramp, and the checks particular to each.
 */

export type Suite = 'short' | 'full' | 'self-test';

export interface MockFault {
  /** Seconds after the first phase started. */
  atSeconds: number;
  /** An exchange, or "*" for every one; `fault: null` clears it. */
  source: string;
  fault: Record<string, unknown> | null;
}

export interface ScenarioSpec {
  name: string;
  /** Under loadtest/scenarios/. */
  file: string;
  suites: Suite[];
  proves: string;
  /** Settings for the service on top of the production defaults. */
  serviceEnv?: Record<string, string>;
  /** Start the service this many seconds into the run, with L1 and L2 empty. */
  coldStartAfterSeconds?: number;
  faults?: MockFault[];
  /** 200s whose body must say this status at least once (the degraded scenario). */
  mustSeeStatus?: string;
  /** The last 10 s window must have 200s saying this status: the service recovered by itself. */
  mustEndWithStatus?: string;
  allow4xx?: boolean;
  /** Price-stream subscribers the runner holds open for the whole run. */
  streamSubscribers?: number;
}

export const SCENARIOS: readonly ScenarioSpec[] = [
  {
    name: 'smoke',
    file: 'smoke.yml',
    suites: ['short', 'full'],
    proves:
      'every public route answers as documented (price, 304 on If-None-Match, problem+json 404/405, health, OpenAPI) at a low rate',
    allow4xx: true,
  },
  {
    name: 'steady',
    file: 'steady.yml',
    suites: ['short', 'full'],
    proves:
      "the seed's 300 concurrent keep-alive clients (a third polling with If-None-Match, a few health probes) within the SLO",
  },
  {
    name: 'spike',
    file: 'spike.yml',
    suites: ['full'],
    proves:
      'a ramp from 100 to 400 concurrent clients (four times) and back stays within the SLO, with no connection errors',
  },
  {
    name: 'degraded-upstream',
    file: 'degraded-upstream.yml',
    suites: ['full'],
    proves:
      'two sources going slow and failing mid-run cost no request: the SLO holds and responses say "degraded", then "ok" again',
    faults: [
      { atSeconds: 8, source: 'okx', fault: { type: 'latency', ms: 3000 } },
      { atSeconds: 8, source: 'kraken', fault: { type: 'status', status: 503 } },
      { atSeconds: 28, source: '*', fault: null },
    ],
    mustSeeStatus: 'degraded',
    mustEndWithStatus: 'ok',
  },
  {
    name: 'cold-start',
    file: 'cold-start.yml',
    suites: ['full'],
    proves:
      'a service started during the ramp with empty L1 and L2 answers no 5xx once its readiness is 200 (refused connections before it listens are expected)',
    coldStartAfterSeconds: 4,
  },
  {
    name: 'stream-mix',
    file: 'stream-mix.yml',
    suites: ['full'],
    proves:
      'the REST SLO holds with 1,000 stream subscribers held open beside it, and every subscriber gets its price events, none twice, none cut off',
    // Every subscriber comes from 127.0.0.1: the per-client limit would otherwise refuse all but 20 per worker.
    serviceEnv: { STREAM_MAX_SUBSCRIBERS_PER_CLIENT: '1000' },
    streamSubscribers: 1000,
  },
  {
    name: 'history-mix',
    file: 'history-mix.yml',
    suites: ['full'],
    proves:
      'the REST SLO holds with 20 history readers beside 200 price pollers (the price at an instant, the 5m TWAP and the batch route every second, 24 h of 1m candles every 5 s), every history answer a 200',
  },
  {
    name: 'soak',
    file: 'soak.yml',
    suites: ['full'],
    proves: 'ten minutes of steady polling: the SLO holds throughout and worker memory does not climb',
  },
  // The gate's own tests: each must fail (run with --self-test, see self-test.ts).
  {
    name: 'overload',
    file: 'self-test/overload.yml',
    suites: ['self-test'],
    proves: 'more arrivals per second than one generator on this machine can create: the run must be invalid',
  },
  {
    name: 'upstream-outage',
    file: 'self-test/upstream-outage.yml',
    suites: ['self-test'],
    proves: 'every source failing with a short MAX_STALENESS: 503s reach clients and the 5xx gate must fail',
    serviceEnv: { CACHE_TTL: '1', MAX_STALENESS: '1', MAX_SOURCE_AGE_MS: '1000', REFRESH_INTERVAL_MS: '250' },
    faults: [{ atSeconds: 2, source: '*', fault: { type: 'status', status: 503 } }],
  },
];

export function scenarioNamed(name: string): ScenarioSpec {
  const spec = SCENARIOS.find((s) => s.name === name);
  if (spec === undefined) {
    throw new Error(`no scenario "${name}" (known: ${SCENARIOS.map((s) => s.name).join(', ')})`);
  }
  return spec;
}
