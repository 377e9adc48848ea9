import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_VERSION } from '../../src/version';

/**
 * One version: package.json's. The code imports it (service/src/version.ts); the copies that cannot import it
 * are generated from it (scripts/generate-settings.ts) or, where another file owns the line, checked here.
 */
const ROOT = join(__dirname, '..', '..', '..');
const read = (...path: string[]) => readFileSync(join(ROOT, ...path), 'utf8');
const VERSION = (JSON.parse(read('package.json')) as { version: string }).version;

function yamlFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return path.startsWith(join('k8s', 'test')) ? [] : yamlFiles(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

describe('the service version', () => {
  test('When the code asks for its version, then it is package.json’s, whatever npm_package_version says', () => {
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    expect(SERVICE_VERSION).toBe(VERSION);
  });

  test('When the OpenAPI document is read, then info.version is package.json’s', () => {
    const openapi = JSON.parse(read('service', 'openapi.json')) as { info: { version: string } };
    expect(openapi.info.version).toBe(VERSION);
  });

  test('When the k8s manifests set app.kubernetes.io/version or a version image tag, then it is package.json’s', () => {
    const found: string[] = [];
    for (const file of yamlFiles('k8s')) {
      // newTag: only version tags (the dev overlay's image is tagged `dev`).
      for (const m of read(file).matchAll(/(app\.kubernetes\.io\/version|newTag):\s*["']?(\d[^\s"'#]*)/g)) {
        found.push(`${file} ${m[1]}=${m[2]}`);
      }
    }
    expect(found.length).toBeGreaterThanOrEqual(2);
    for (const entry of found) expect(entry).toMatch(new RegExp(`=${VERSION.replace(/\./g, '\\.')}$`));
  });

  test('When the image is built without --build-arg VERSION, then its version label defaults to package.json’s', () => {
    const arg = /^ARG VERSION(?:=(\S*))?$/m.exec(read('Dockerfile'));
    expect(arg).not.toBeNull();
    // No default at all is fine too: then the label is empty rather than wrong.
    if (arg?.[1] !== undefined) expect(arg[1]).toBe(VERSION);
  });
});
