import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config, loadConfig as LoadConfig } from '../../../service/src/config';
import { repoPath } from './paths';

/**
 * What the service really reads and serves, derived from its code rather than copied by hand:
 * - env names: the keys of the zod object schema in service/src/config.ts, captured while the module
 *   loads (z.object is wrapped for that one load), so computed names such as SOURCE_BINANCE_URL are in;
 *   plus the names the rest of service/src reads directly (process.env.OTEL_EXPORTER_OTLP_ENDPOINT…);
 * - loadConfig itself, to check that every value a manifest sets is accepted and to read its defaults;
 * - the health routes registered in service/src/presentation/app.ts.
 */
export interface ServiceContract {
  /** Every environment variable the service reads. */
  envNames: ReadonlySet<string>;
  /** The ones loadConfig's schema reads. */
  schemaEnvNames: ReadonlySet<string>;
  loadConfig: typeof LoadConfig;
  defaults: Config;
  routes: ReadonlySet<string>;
  livenessPath: string;
  readinessPath: string;
  /** After SIGTERM the primary exits at most this long after SHUTDOWN_TIMEOUT_MS (its hard deadline). */
  hardDeadlineMarginMs: number;
}

let cached: ServiceContract | undefined;

export function serviceContract(): ServiceContract {
  if (cached) return cached;
  const shapes: string[][] = [];
  let loadConfig: typeof LoadConfig | undefined;
  jest.isolateModules(() => {
    jest.doMock('zod', () => {
      const actual = jest.requireActual<typeof import('zod')>('zod');
      const object = ((shape: Record<string, unknown>, ...rest: unknown[]) => {
        shapes.push(Object.keys(shape));
        return (actual.z.object as (...args: unknown[]) => unknown)(shape, ...rest);
      }) as typeof actual.z.object;
      return { ...actual, z: { ...actual.z, object } };
    });
    // A fresh load of config.ts (with the wrapped zod) needs require inside isolateModules.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loadConfig = (require('../../../service/src/config') as typeof import('../../../service/src/config'))
      .loadConfig;
    jest.dontMock('zod');
  });
  const envSchema = shapes.find((keys) => keys.includes('PORT') && keys.includes('SHUTDOWN_TIMEOUT_MS'));
  if (!envSchema || !loadConfig) throw new Error('could not find the env schema in service/src/config.ts');

  // The route table (presentation/routes.ts) names every route; the index (index-routes.ts) links the probes.
  const table = readFileSync(repoPath('service', 'src', 'presentation', 'routes.ts'), 'utf8');
  const routes = new Set([...table.matchAll(/\broute\('([^']+)'/g)].map((m) => m[1] as string));
  const index = readFileSync(repoPath('service', 'src', 'presentation', 'index-routes.ts'), 'utf8');
  const link = (name: string) => {
    const m = new RegExp(`\\b${name}: '([^']+)'`).exec(index);
    if (!m) throw new Error(`no ${name} link in index-routes.ts`);
    return m[1] as string;
  };
  const primary = readFileSync(repoPath('service', 'src', 'cluster', 'primary.ts'), 'utf8');
  const margin = /config\.shutdownTimeoutMs \+ (\d+)[),]/.exec(primary);
  if (!margin) throw new Error('no shutdown deadline in service/src/cluster/primary.ts');

  const direct = sourceFiles(repoPath('service', 'src')).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/process\.env\.([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] as string),
  );

  cached = {
    envNames: new Set([...envSchema, ...direct]),
    schemaEnvNames: new Set(envSchema),
    loadConfig,
    // WORKERS defaults to the CPU count; fixed here so defaults do not depend on the machine.
    defaults: loadConfig({ WORKERS: '1' }),
    routes,
    livenessPath: link('liveness'),
    readinessPath: link('readiness'),
    hardDeadlineMarginMs: Number(margin[1]),
  };
  return cached;
}

/**
 * The longest a replica can take from SIGTERM to exit with these settings: SHUTDOWN_TIMEOUT_MS (the drain
 * delay runs inside it: workers drain for SHUTDOWN_TIMEOUT_MS - DRAIN_DELAY_MS) plus the primary's hard
 * deadline margin; at least SHUTDOWN_TIMEOUT_MS + DRAIN_DELAY_MS, the budget the deployment docs state.
 */
export function worstCaseShutdownMs(contract: ServiceContract, env: Record<string, string>): number {
  const config = contract.loadConfig({ WORKERS: '1', ...env });
  return config.shutdownTimeoutMs + Math.max(contract.hardDeadlineMarginMs, config.drainDelayMs);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}
