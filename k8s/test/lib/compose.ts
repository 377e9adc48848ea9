import Ajv2019 from 'ajv/dist/2019';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { repoPath } from './paths';
import { worstCaseShutdownMs, type ServiceContract } from './service-contract';

/**
 * Compose files: the Compose Specification schema that dclint ships, the merge `docker compose -f a -f b`
 * performs, and cross-checks against what the service really reads (env names and values, ports, probe
 * path, the time it needs to shut down).
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string; target?: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: (string | { type: string; source: string; target: string })[];
  depends_on?: string[] | Record<string, { condition: string }>;
  user?: string;
  read_only?: boolean;
  tmpfs?: string[];
  cap_drop?: string[];
  security_opt?: string[];
  mem_limit?: string;
  healthcheck?: { test: string[] | string };
  stop_grace_period?: string;
  sysctls?: Record<string, number | string>;
  ulimits?: Record<string, number | { soft: number; hard: number }>;
}
export interface Compose {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const schema = JSON.parse(
  readFileSync(repoPath('node_modules/dclint/schemas/compose.schema.json'), 'utf8'),
) as Record<string, unknown>;
delete schema.$schema;
const ajv = new Ajv2019({ allErrors: true, strict: false, validateSchema: false });
addFormats(ajv);
const validateSchema = ajv.compile(schema);

/** Compose Specification schema errors, as "path: message" (empty when valid). */
export function composeSchemaErrors(doc: unknown): string[] {
  if (validateSchema(doc)) return [];
  return (validateSchema.errors ?? []).map(
    (e) =>
      `${e.instancePath || '/'}: ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`,
  );
}

export const readCompose = (file: string) => load(readFileSync(repoPath(file), 'utf8')) as Compose;

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The merge `docker compose -f base -f overlay` performs, as far as these files need it: mappings merge key
 * by key, sequences (ports, volumes) are concatenated, the overlay's command and scalars win.
 */
export function mergeCompose(a: Json, b: Json, key = ''): Json {
  if (isObject(a) && isObject(b)) {
    const out: Record<string, Json> = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = k in a ? mergeCompose(a[k] as Json, v, k) : v;
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b) && key !== 'command')
    return [...new Set([...a, ...b].map((x) => JSON.stringify(x)))].map((x) => JSON.parse(x) as Json);
  return b;
}

export function mergeFiles(...files: string[]): Compose {
  return files
    .map((f) => readCompose(f) as unknown as Json)
    .reduce((a, b) => mergeCompose(a, b)) as unknown as Compose;
}

/** `${NAME:-default}` and `${NAME-default}` as compose resolves them with NAME unset; `$$` is a literal `$`. */
export function interpolate(value: string, vars: Record<string, string> = {}): string {
  return value
    .replace(
      /\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g,
      (_m, name: string, fallback?: string) => vars[name] ?? fallback ?? '',
    )
    .replaceAll('$$', '$');
}

export function resolvedEnv(
  service: ComposeService,
  vars: Record<string, string> = {},
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), vars)]),
  );
}

/** Compose durations: 1m30s, 15s, 500ms. */
export function durationMs(text: string): number {
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|us|h|m|s)/g)) {
    const factor = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 }[unit as string] as number;
    total += Number(n) * factor;
  }
  return total;
}

/** Cross-checks of one price-service definition against the service's real settings and routes. */
export function checkComposeService(
  service: ComposeService,
  contract: ServiceContract,
  where: string,
): string[] {
  const problems: string[] = [];
  const p = (msg: string) => problems.push(`${where}: ${msg}`);
  for (const name of Object.keys(service.environment ?? {}))
    if (!contract.envNames.has(name))
      p(`environment ${name} is not a setting the service reads (service/src/config/ (the settings table))`);
  const env = resolvedEnv(service);
  let config;
  try {
    config = contract.loadConfig({ WORKERS: '1', ...env });
  } catch (error) {
    p(`loadConfig rejects its environment: ${(error as Error).message.replace(/\s+/g, ' ')}`);
    return problems;
  }
  const published = (service.ports ?? []).map((spec) => Number(String(spec).split(':').at(-1)));
  for (const [name, port] of [
    ['PORT', config.port],
    ['METRICS_PORT', config.metricsPort],
  ] as const)
    if (!published.includes(port)) p(`${name} ${port} is not published (ports: ${published.join(', ')})`);
  const needed = worstCaseShutdownMs(contract, env);
  const grace = durationMs(service.stop_grace_period ?? '10s');
  if (grace < needed)
    p(
      `stop_grace_period ${service.stop_grace_period ?? '10s (default)'} is shorter than the ${needed} ms shutdown`,
    );
  // stop_grace_period is a fixed duration: a shutdown setting taken from the host's environment could
  // outgrow it, and docker stop would SIGKILL the service mid-drain. The file must fix the value it allows.
  for (const name of SHUTDOWN_SETTINGS) {
    const raw = service.environment?.[name];
    if (raw !== undefined && String(raw).includes('${'))
      p(
        `environment ${name} is taken from the host environment (${String(raw)}) but stop_grace_period ${service.stop_grace_period ?? '10s (default)'} is fixed: set a fixed value in the file`,
      );
  }
  const test = service.healthcheck?.test;
  if (test !== undefined) {
    const path = healthcheckUrl(test)?.path;
    if (path !== contract.livenessPath) p(`healthcheck probes ${path}, not ${contract.livenessPath}`);
    problems.push(...checkHealthcheckCommand(test, SERVICE_IMAGE_BINARIES, where));
  }
  return problems;
}

/** The settings that decide how long the service takes to exit after SIGTERM (worstCaseShutdownMs). */
export const SHUTDOWN_SETTINGS = ['SHUTDOWN_TIMEOUT_MS', 'DRAIN_DELAY_MS'] as const;

/**
 * Executables a healthcheck may run in the service's images (Dockerfile, Dockerfile.dev: both
 * node:24-bookworm-slim, which has node and no curl or wget).
 */
export const SERVICE_IMAGE_BINARIES = ['node'] as const;

/** The executable a healthcheck test runs: CMD's first argument, or the first word of a shell command. */
export function healthcheckCommand(test: string[] | string): string | undefined {
  if (typeof test === 'string') return test.trim().split(/\s+/)[0];
  const [kind, ...rest] = test;
  if (kind === 'CMD') return rest[0];
  if (kind === 'CMD-SHELL') return rest.join(' ').trim().split(/\s+/)[0];
  return undefined; // NONE
}

/** The healthcheck runs an executable the image has (a curl healthcheck fails forever on a node image). */
export function checkHealthcheckCommand(
  test: string[] | string,
  allowed: readonly string[],
  where: string,
): string[] {
  const command = healthcheckCommand(test);
  return command !== undefined && allowed.includes(command)
    ? []
    : [
        `${where}: healthcheck runs ${command ?? 'nothing'}, which is not in the image (it has ${allowed.join(', ')}): use node -e "fetch(…)"`,
      ];
}

/**
 * The address a healthcheck fetches (compose interpolation applied), if it names one: the authority as
 * written (it may hold an expression such as `${process.env.PORT || 8000}`) and the path.
 */
export function healthcheckUrl(test: string[] | string): { authority: string; path: string } | undefined {
  const text = interpolate(Array.isArray(test) ? test.join(' ') : test);
  const m = /https?:\/\/([^/]+)(\/[^`'"\s)]*)/.exec(text);
  return m ? { authority: m[1] as string, path: m[2] as string } : undefined;
}
