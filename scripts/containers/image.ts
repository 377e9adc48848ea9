import { must, run } from './docker';

/** Paths the production image must not hold: they are tools, caches or sources, not the service. */
export const FORBIDDEN_PATHS = [
  '/app/dist/scripts',
  '/app/dist/mock-exchange',
  '/app/dist/loadtest',
  '/app/dist/monitoring',
  '/app/service',
  '/app/node_modules/.bin/jest',
  '/app/node_modules/.bin/tsc',
  '/app/node_modules/.bin/tsx',
  '/tmp/node-compile-cache',
  '/root/.npm',
  '/home/node/.npm',
];

export interface ImageFacts {
  sizeBytes: number;
  layers: { size: string; createdBy: string }[];
  user: string;
  healthcheck: string;
  present: string[];
  devPackages: string[];
  mainExists: boolean;
}

/** Reads what the image holds by running a shell in it (no network, never the service). */
export async function readImage(image: string): Promise<ImageFacts> {
  const sizeBytes = Number(await must('docker', ['image', 'inspect', '-f', '{{.Size}}', image]));
  const history = await must('docker', [
    'history',
    '--no-trunc',
    '--format',
    '{{.Size}}\t{{.CreatedBy}}',
    image,
  ]);
  const layers = history
    .trim()
    .split('\n')
    .map((line) => {
      const [size = '', createdBy = ''] = line.split('\t');
      return { size, createdBy: createdBy.replace(/\s+/g, ' ').slice(0, 110) };
    });
  const user = (await must('docker', ['image', 'inspect', '-f', '{{.Config.User}}', image])).trim();
  const healthcheck = (
    await must('docker', ['image', 'inspect', '-f', '{{json .Config.Healthcheck}}', image])
  ).trim();
  const script = [
    `for p in ${FORBIDDEN_PATHS.join(' ')}; do [ -e "$p" ] && echo "present $p"; done`,
    // npm's hidden lockfile lists what `npm ci` installed; "dev": true marks a dev-only package.
    `node -e 'const l=require("/app/node_modules/.package-lock.json");for(const[k,v]of Object.entries(l.packages))if(v.dev)console.log("dev "+k)'`,
    '[ -f /app/dist/service/src/main.js ] && echo main',
    'true',
  ].join('; ');
  const out = await run('docker', [
    'run',
    '--rm',
    '--network',
    'none',
    '--entrypoint',
    'sh',
    image,
    '-c',
    script,
  ]);
  if (out.code !== 0) throw new Error(`reading the image failed: ${out.stderr}`);
  const lines = out.stdout.trim().split('\n');
  return {
    sizeBytes,
    layers,
    user,
    healthcheck,
    present: lines.filter((l) => l.startsWith('present ')).map((l) => l.slice(8)),
    devPackages: lines.filter((l) => l.startsWith('dev ')).map((l) => l.slice(4)),
    mainExists: lines.includes('main'),
  };
}

/** Everything wrong with the production image's contents, one line each. */
export function imageProblems(facts: ImageFacts): string[] {
  const problems: string[] = [];
  for (const path of facts.present) problems.push(`${path} is in the image`);
  if (facts.devPackages.length > 0)
    problems.push(`dev dependencies in the image: ${facts.devPackages.slice(0, 5).join(', ')}`);
  if (!facts.mainExists) problems.push('dist/service/src/main.js is missing');
  if (facts.user !== 'node') problems.push(`runs as "${facts.user || 'root'}", not node`);
  if (!facts.healthcheck.includes('/health/liveness')) problems.push('no liveness HEALTHCHECK');
  return problems;
}

/** Size and layer count of an image (the base's, to tell the image's own layers apart). */
export async function readImageLayers(image: string): Promise<{ sizeBytes: number; layers: number }> {
  const sizeBytes = Number(await must('docker', ['image', 'inspect', '-f', '{{.Size}}', image]));
  const history = await must('docker', ['history', '-q', image]);
  return { sizeBytes, layers: history.trim().split('\n').length };
}

export const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
