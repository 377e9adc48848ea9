import { z } from 'zod';
import { ConfigError } from './config-error';
import { SETTINGS, buildTree, configTable, type Config } from './config-table';
import { crossCheckProblems } from './cross-checks';
import type { AnySetting, ParseContext } from './setting';
import { deepFreeze } from './worker-config';

/** Every variable and its schema, as one zod object (k8s/test reads the names from it). */
const envSchema = z.object(Object.fromEntries(SETTINGS.map((setting) => [setting.env, setting.schema])));

export function loadConfig(rawEnv: NodeJS.ProcessEnv = process.env): Config {
  // An empty value means unset, as compose files and shells often pass `NAME=` for "no value".
  const env = Object.fromEntries(
    Object.entries(rawEnv).filter(([, value]) => value !== undefined && value !== ''),
  ) as Record<string, string | undefined>;
  // Each variable on its own, so a cross-field check can run whenever its own fields parsed, and one run
  // reports every problem.
  const problems: string[] = [];
  const failed = new Set<string>();
  const values = new Map<string, unknown>();
  for (const [name, schema] of Object.entries(envSchema.shape)) {
    const result = (schema as z.ZodType).safeParse(env[name]);
    if (result.success) values.set(name, result.data);
    else {
      failed.add(name);
      for (const issue of result.error.issues)
        problems.push(`${[name, ...issue.path].join('.')}: ${issue.message}`);
    }
  }
  const context: ParseContext = {
    env,
    failed,
    value: <T>(setting: { env: string }) => values.get(setting.env) as T,
    problem: (message) => problems.push(message),
  };
  // Composite fields (lists, Redis) check themselves even when other settings failed.
  const draft = buildTree(
    configTable,
    (setting: AnySetting) => values.get(setting.env),
    (field) => field.build(context),
  ) as Config;
  problems.push(...crossCheckProblems(draft, env, failed));
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(draft);
}
