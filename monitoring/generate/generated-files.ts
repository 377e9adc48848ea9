import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';

/**
 * The convention of every generator behind `make generate`: given the files it renders, write them; with
 * --check, write nothing and exit 1 naming each file whose committed copy differs (`make check-generated`,
 * which `make lint` runs).
 */
export interface GeneratedFile {
  path: string;
  content: string;
}

const REPO_ROOT = resolve(__dirname, '..', '..');

/** The committed files that differ from what the generator renders now (missing files included). */
export function staleFiles(files: GeneratedFile[]): string[] {
  return files
    .filter((f) => !existsSync(f.path) || readFileSync(f.path, 'utf8') !== f.content)
    .map((f) => relative(REPO_ROOT, f.path));
}

/** Runs a generator from its command line: `npx tsx GENERATOR [--check]`. Returns the exit code. */
export function writeOrCheck(
  generator: string,
  files: GeneratedFile[],
  argv = process.argv.slice(2),
): number {
  if (argv.includes('--check')) {
    const stale = staleFiles(files);
    for (const path of stale)
      process.stderr.write(
        `${path} is stale: it differs from what ${generator} renders. Run: make generate\n`,
      );
    return stale.length === 0 ? 0 : 1;
  }
  for (const f of files) {
    if (!existsSync(f.path) || readFileSync(f.path, 'utf8') !== f.content) {
      writeFileSync(f.path, f.content);
      process.stdout.write(`wrote ${relative(REPO_ROOT, f.path)}\n`);
    }
  }
  return 0;
}
