import { ConfigError, loadConfig } from '../../src/config';

/** The problems loadConfig reports for env, or a failure if it accepts it. */
export function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('loadConfig accepted the environment');
}
