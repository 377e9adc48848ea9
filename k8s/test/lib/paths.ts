import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const K8S = join(REPO_ROOT, 'k8s');
export const FIXTURES = join(K8S, 'test', 'fixtures');
export const VARIANTS_DIR = join(K8S, 'test', 'variants');
export const OVERLAYS = ['dev', 'production'] as const;
export type OverlayName = (typeof OVERLAYS)[number];

export function repoPath(...parts: string[]): string {
  return join(REPO_ROOT, ...parts);
}
