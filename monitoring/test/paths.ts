import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { load } from 'js-yaml';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const MONITORING = join(REPO_ROOT, 'monitoring');
export const RULES_DIR = join(MONITORING, 'prometheus', 'rules');
export const RULE_TESTS_DIR = join(MONITORING, 'prometheus', 'tests');
export const DASHBOARDS_DIR = join(MONITORING, 'grafana', 'dashboards');
export const DATASOURCES_DIR = join(MONITORING, 'grafana', 'provisioning', 'datasources');
export const RUNBOOKS_DIR = join(REPO_ROOT, 'docs', 'runbooks');

export function repoPath(...parts: string[]): string {
  return join(REPO_ROOT, ...parts);
}

export function readYaml<T = unknown>(path: string): T {
  return load(readFileSync(path, 'utf8')) as T;
}

export function filesIn(dir: string, pattern: RegExp): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => pattern.test(name))
    .sort()
    .map((name) => join(dir, name));
}
