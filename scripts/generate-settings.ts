/**
 * Writes the generated copies of the settings table and of the version from their one source each:
 *   README.md (between the settings markers), .env.example, k8s/base/config.env  <- service/src/config/settings/
 *   service/openapi.json info.version, k8s production labels and image tag      <- package.json's version
 * With --check it writes nothing and exits 1 naming each stale file. --root DIR works on a copy of the repo
 * (the tests use it).
 *   npx tsx scripts/generate-settings.ts [--check] [--root DIR]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as prettier from 'prettier';
import {
  renderEnvExample,
  renderK8sConfigEnv,
  renderReadmeTables,
  spliceReadme,
} from './settings/render-settings';
import { VERSION_COPIES } from './settings/render-version';

interface Output {
  readonly path: string;
  readonly render: (current: string) => Promise<string> | string;
}

function outputs(root: string): Output[] {
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string })
    .version;
  return [
    {
      path: 'README.md',
      // The tables are padded the way prettier --check expects (make lint), with the repository's settings.
      render: async (current) => {
        const file = join(root, 'README.md');
        const options = (await prettier.resolveConfig(file)) ?? {};
        return prettier.format(spliceReadme(current, renderReadmeTables()), { ...options, filepath: file });
      },
    },
    { path: '.env.example', render: () => renderEnvExample() },
    { path: 'k8s/base/config.env', render: () => renderK8sConfigEnv() },
    ...VERSION_COPIES.map((copy) => ({
      path: copy.path,
      render: (current: string) => copy.render(current, version),
    })),
  ];
}

async function main(argv: readonly string[]): Promise<number> {
  const check = argv.includes('--check');
  const rootIndex = argv.indexOf('--root');
  const root = resolve(rootIndex === -1 ? join(__dirname, '..') : (argv[rootIndex + 1] ?? '.'));
  const stale: string[] = [];
  for (const output of outputs(root)) {
    const file = join(root, output.path);
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      // missing: generated below, or stale
    }
    const next = await output.render(current);
    if (next === current) continue;
    if (check) stale.push(output.path);
    else {
      writeFileSync(file, next);
      console.log(`wrote ${output.path}`);
    }
  }
  for (const path of stale) {
    console.error(
      `${path} is stale: it differs from what service/src/config/settings/ and package.json's version give. Run make generate.`,
    );
  }
  return stale.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
