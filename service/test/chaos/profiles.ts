/**
 * The chaos suite's profiles: how hard the load, how long each fault is held and which faults run. FULL is
 * `make test-chaos`; SHORT is the subset `make test` runs (chaos.test.ts).
 */
import { FAULTS } from './faults';

export interface Profile {
  readonly name: string;
  readonly connections: number;
  readonly periodMs: number;
  /** Service settings (both replicas). */
  readonly env: Readonly<Record<string, string>>;
  readonly holdMs: number;
  readonly outageMs: number;
  /** After a fault is cleared: how long both replicas may take to serve fresh prices again. */
  readonly recoveryTimeoutMs: number;
  /** Load kept running after recovery, before the row closes. */
  readonly settleMs: number;
  readonly faults: readonly string[];
  readonly prometheus: boolean;
}

const ALL = FAULTS.map((f) => f.id);

export const FULL: Profile = {
  name: 'full',
  connections: 300,
  periodMs: 100,
  env: {
    REFRESH_INTERVAL_MS: '1000',
    CACHE_TTL: '5',
    MAX_STALENESS: '30',
    // MAX_SOURCE_AGE_MS left to its default (CACHE_TTL - 2 refresh intervals = 3000 here): finding 1.
    UPSTREAM_TIMEOUT_MS: '800',
    BREAKER_RESET_MS: '5000',
    UPSTREAM_BAN_COOLDOWN_MS: '5000',
    REDIS_COMMAND_TIMEOUT_MS: '250',
    DRAIN_DELAY_MS: '1000',
    SHUTDOWN_TIMEOUT_MS: '8000',
  },
  holdMs: 10_000,
  outageMs: 60_000,
  recoveryTimeoutMs: 20_000,
  settleMs: 2000,
  faults: ALL,
  prometheus: true,
};

/** The subset run by `make test` (service/test/chaos/chaos.test.ts): about 30 s. */
export const SHORT: Profile = {
  name: 'short',
  connections: 100,
  periodMs: 100,
  env: {
    REFRESH_INTERVAL_MS: '250',
    CACHE_TTL: '1',
    MAX_STALENESS: '3',
    // Not the default (500 here): on a busy CI box a 500 ms quote age rejects sources before the first round.
    MAX_SOURCE_AGE_MS: '1000',
    UPSTREAM_TIMEOUT_MS: '300',
    UPSTREAM_RETRIES: '1',
    UPSTREAM_RETRY_BASE_DELAY_MS: '10',
    BREAKER_RESET_MS: '1000',
    UPSTREAM_BAN_COOLDOWN_MS: '2000',
    REDIS_COMMAND_TIMEOUT_MS: '100',
    DRAIN_DELAY_MS: '300',
    SHUTDOWN_TIMEOUT_MS: '3000',
  },
  holdMs: 2500,
  outageMs: 6000,
  recoveryTimeoutMs: 8000,
  settleMs: 500,
  faults: ['redis-kill', 'history-redis-outage', 'worker-kill', 'garbage', 'total-outage'],
  prometheus: false,
};
