/**
 * renovate.json by structure (Renovate itself is not installed here): every file that pins an image is
 * read by one of its managers, every pinned image is a version Renovate can compare, and every package
 * rule names something the repository really uses.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT, repoPath } from './paths';

interface RenovateConfig {
  $schema: string;
  extends: string[];
  ignorePaths: string[];
  packageRules: { matchPackageNames?: string[]; description: string }[];
  [manager: string]: unknown;
}
const config = JSON.parse(readFileSync(repoPath('renovate.json'), 'utf8')) as RenovateConfig;

/** Renovate's "/regex/" pattern strings. */
const patternsOf = (manager: string) =>
  ((config[manager] as { managerFilePatterns?: string[] } | undefined)?.managerFilePatterns ?? []).map(
    (p) => new RegExp(p.slice(1, p.lastIndexOf('/'))),
  );
const MANAGERS = ['docker-compose', 'dockerfile', 'kubernetes', 'kustomize'];

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (['node_modules', '.git', 'dist', '.tools', 'coverage', 'fixtures', 'bench-results'].includes(name))
      return [];
    return statSync(path).isDirectory() ? walk(path) : [relative(REPO_ROOT, path)];
  });
}
const files = walk(REPO_ROOT).filter(
  (f) => !f.startsWith('k8s/test/') && !f.startsWith('loadtest/node_modules'),
);

/** Image references as Renovate's managers read them: FROM lines, `image:` keys, kustomize images. */
function imagesIn(file: string): string[] {
  const text = readFileSync(repoPath(file), 'utf8');
  if (/(^|\/)Dockerfile[^/]*$/.test(file))
    return [...text.matchAll(/^FROM\s+(?:--platform=\S+\s+)?(\S+)/gm)].map((m) => m[1] as string);
  if (!/\.ya?ml$/.test(file)) return [];
  const images = [...text.matchAll(/^\s*-?\s*image:\s*['"]?([^\s'"#]+)/gm)].map((m) => m[1] as string);
  for (const m of text.matchAll(/-\s*name:\s*(\S+)\n\s+newName:\s*(\S+)\n\s+newTag:\s*(\S+)/g))
    images.push(`${m[2]}:${m[3]}`);
  return images;
}
const pinned = files.flatMap((file) => imagesIn(file).map((image) => ({ file, image })));

describe('renovate.json', () => {
  it('When it is read, then it extends the recommended preset and names the schema', () => {
    expect(config.$schema).toBe('https://docs.renovatebot.com/renovate-schema.json');
    expect(config.extends).toContain('config:recommended');
    for (const rule of config.packageRules) expect(rule.description.length).toBeGreaterThan(20);
  });

  it('When the repository pins images, then each file is read by one of the configured managers', () => {
    const byFile = [...new Set(pinned.map((p) => p.file))];
    expect(byFile).toEqual(
      expect.arrayContaining([
        'Dockerfile',
        'Dockerfile.dev',
        'docker-compose.yml',
        'docker-compose.monitoring.yml',
        'k8s/components/redis/deployment.yaml',
        'k8s/overlays/production/kustomization.yaml',
      ]),
    );
    const managed = (f: string) => MANAGERS.some((m) => patternsOf(m).some((p) => p.test(f)));
    expect(byFile.filter((f) => !managed(f))).toEqual([]);
    // The check can fail: files no manager pattern reads.
    expect(
      ['deploy/Containerfile', 'helm/values.yaml', 'compose.override.yml'].filter((f) => !managed(f)),
    ).toEqual(['deploy/Containerfile', 'helm/values.yaml', 'compose.override.yml']);
  });

  it('When an image is pinned, then it has a version tag Renovate can compare (never latest or none)', () => {
    const own = /^(price-service|registry\.example\.com\/)/;
    const loose = pinned.filter(
      ({ image }) => !own.test(image) && !/:(v?\d+[\w.-]*)(@sha256:[0-9a-f]{64})?$/.test(image),
    );
    expect(loose).toEqual([]);
  });

  it('When a package rule names images or packages, then the repository uses each of them', () => {
    const used = new Set([
      ...pinned.map(({ image }) => image.replace(/[:@].*$/, '')),
      ...Object.keys(
        (JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { devDependencies: object })
          .devDependencies,
      ),
    ]);
    const glob = (p: string) => new RegExp(`^${p.replace(/[.]/g, '\\.').replace(/\*\*?/g, '.*')}$`);
    for (const name of config.packageRules.flatMap((r) => r.matchPackageNames ?? []))
      expect({ name, used: [...used].some((u) => glob(name).test(u)) }).toEqual({ name, used: true });
  });
});
