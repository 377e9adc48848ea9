import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import {
  README_BEGIN,
  SETTING_SECTIONS,
  renderEnvExample,
  renderK8sConfigEnv,
  renderReadmeTables,
  spliceReadme,
} from '../../../scripts/settings/render-settings';
import { loadConfig } from '../../src/config';

/**
 * The copies of the settings table (README, .env.example, k8s/base/config.env) say what loadConfig does,
 * and scripts/generate-settings.ts keeps them so: --check fails on a stale copy, a run rewrites it.
 */
const ROOT = join(__dirname, '..', '..', '..');
const run = promisify(execFile);
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const GENERATOR = join(ROOT, 'scripts', 'generate-settings.ts');

/** `NAME=value` lines of an env file (comments and blank lines skipped). */
function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) env[match[1] as string] = match[2] as string;
  }
  return env;
}

async function generator(root: string, ...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [TSX, GENERATOR, '--root', root, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the settings table and its copies', () => {
  const settings = SETTING_SECTIONS.flatMap((section) => section.settings);

  test('When the README tables are rendered, then every setting has a row with its default and unit', () => {
    const tables = renderReadmeTables();
    for (const s of settings) {
      expect(tables).toContain(`| \`${s.env}\` | ${s.defaultDoc.replace(/\|/g, '\\|')} | ${s.unit ?? ''} |`);
    }
    expect(tables).toContain('| `MAX_SOURCE_AGE_MS` | `CACHE_TTL` − 2 × `REFRESH_INTERVAL_MS`');
  });

  test('When .env.example is loaded as it is, then the service gets exactly its defaults', () => {
    const env = parseEnvFile(renderEnvExample());
    // Every setting is in it, set or commented out.
    for (const s of settings) expect(renderEnvExample()).toMatch(new RegExp(`^(# )?${s.env}=`, 'm'));
    expect(Object.keys(env).length).toBeGreaterThan(40);
    expect(loadConfig(env)).toStrictEqual(loadConfig({}));
  });

  test('When a documented default is given explicitly, then loadConfig gives what it gives with the variable unset', () => {
    for (const s of settings.filter((s) => s.default !== undefined)) {
      expect([s.env, loadConfig({ [s.env]: s.default })]).toStrictEqual([s.env, loadConfig({})]);
    }
  });

  test('When k8s/base/config.env is rendered, then it is the k8s entries of the table, accepted by loadConfig, WORKERS=1 and DRAIN_DELAY_MS=0', () => {
    const env = parseEnvFile(renderK8sConfigEnv());
    expect(Object.keys(env).sort()).toEqual(
      settings
        .filter((s) => s.k8s !== undefined)
        .map((s) => s.env)
        .sort(),
    );
    expect(env).toMatchObject({ WORKERS: '1', DRAIN_DELAY_MS: '0' });
    expect(loadConfig(env)).toMatchObject({ workers: 1, drainDelayMs: 0 });
  });

  test('When the README has no settings markers, then splicing says so instead of appending', () => {
    expect(() => spliceReadme('# README\n', 'tables')).toThrow(/settings markers are missing/);
    expect(spliceReadme(`a\n${README_BEGIN}\nold\n<!-- settings:end -->\nb`, 'new')).toBe(
      `a\n${README_BEGIN}\n\nnew\n\n<!-- settings:end -->\nb`,
    );
  });
});

describe('scripts/generate-settings.ts', () => {
  // Each run starts tsx and prettier: seconds each on a busy box.
  jest.setTimeout(120_000);
  const FILES = [
    'package.json',
    '.prettierrc.json',
    'README.md',
    '.env.example',
    'k8s/base/config.env',
    'service/openapi.json',
    'k8s/overlays/production/kustomization.yaml',
  ];
  let copy: string;

  beforeAll(() => {
    copy = mkdtempSync(join(tmpdir(), 'settings-generator-'));
    for (const file of FILES) {
      mkdirSync(dirname(join(copy, file)), { recursive: true });
      cpSync(join(ROOT, file), join(copy, file));
    }
  });
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  test('When the committed copies are checked, then none is stale', async () => {
    const result = await generator(ROOT, '--check');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  test('When a copy is stale, then --check names it, exits 1 and writes nothing; a run rewrites it and --check passes', async () => {
    const envExample = join(copy, '.env.example');
    const readme = join(copy, 'README.md');
    writeFileSync(envExample, readFileSync(envExample, 'utf8').replace('\nCACHE_TTL=5\n', '\nCACHE_TTL=7\n'));
    writeFileSync(readme, readFileSync(readme, 'utf8').replace('| `CACHE_TTL` ', '| `CACHE_TTL_S` '));
    const stale = readFileSync(envExample, 'utf8');

    const checked = await generator(copy, '--check');
    expect(checked.code).toBe(1);
    expect(checked.stderr).toContain('.env.example is stale');
    expect(checked.stderr).toContain('README.md is stale');
    expect(checked.stderr).toContain('Run make generate');
    expect(checked.stderr).not.toContain('config.env');
    expect(readFileSync(envExample, 'utf8')).toBe(stale);

    const written = await generator(copy);
    expect(written.code).toBe(0);
    expect(written.stdout).toContain('wrote .env.example');
    expect(readFileSync(envExample, 'utf8')).toBe(readFileSync(join(ROOT, '.env.example'), 'utf8'));
    expect(readFileSync(readme, 'utf8')).toBe(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect((await generator(copy, '--check')).code).toBe(0);
  });

  test('When package.json gets a new version, then --check names the OpenAPI document and the k8s overlay, and a run sets it there', async () => {
    const pkg = join(copy, 'package.json');
    const before = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
    writeFileSync(pkg, readFileSync(pkg, 'utf8').replace(/"version": "[^"]+"/, '"version": "9.8.7"'));

    const checked = await generator(copy, '--check');
    expect(checked.code).toBe(1);
    expect(checked.stderr).toContain('service/openapi.json is stale');
    expect(checked.stderr).toContain('k8s/overlays/production/kustomization.yaml is stale');

    expect((await generator(copy)).code).toBe(0);
    const openapi = JSON.parse(readFileSync(join(copy, 'service/openapi.json'), 'utf8')) as {
      info: { version: string };
    };
    expect(openapi.info.version).toBe('9.8.7');
    const overlay = readFileSync(join(copy, 'k8s/overlays/production/kustomization.yaml'), 'utf8');
    expect(overlay).toContain('app.kubernetes.io/version: 9.8.7');
    expect(overlay).toContain('newTag: 9.8.7');
    expect(overlay).not.toContain(`:${before}`);
  });

  test('When the README lost its markers, then the generator fails with the reason (exit 2)', async () => {
    const readme = join(copy, 'README.md');
    writeFileSync(readme, readFileSync(readme, 'utf8').replace(README_BEGIN, ''));
    const result = await generator(copy, '--check');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/settings markers are missing/);
  });
});
