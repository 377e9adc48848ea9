import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Doc } from './kubectl';
import { repoPath } from './paths';

const OPERATOR_GROUPS = new Set(['monitoring.coreos.com']);

/** The kubernetes-models interface for a document, e.g. import('kubernetes-models/apps/v1/Deployment').IDeployment. */
export function modelType(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const path = OPERATOR_GROUPS.has(group as string)
    ? `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`
    : group === ''
      ? `kubernetes-models/${version}/${kind}`
      : `kubernetes-models/${group}/${version}/${kind}`;
  return `import('${path}').I${kind}`;
}

export interface TypeResult {
  id: string;
  errors: string[];
}

/**
 * kubernetes-models' validate() accepts unknown fields (a typo such as runAsNonRooot passes). Its TypeScript
 * interfaces do not: each document is written out as `{…} satisfies I<Kind>` and compiled with tsc, which
 * reports every excess or misspelt property and every wrong type. All documents go through one tsc run.
 */
export function typecheck(docs: { id: string; doc: Doc }[], name = 'k8s'): Promise<TypeResult[]> {
  // Inside the repository, so that the files resolve kubernetes-models from node_modules; one folder per
  // process, since other runs of the suite may share the working tree.
  const dir = repoPath('.tools', 'k8s-typecheck', `${name}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files = new Map<string, string>();
  docs.forEach(({ id, doc }, i) => {
    const file = `doc${i}.mts`;
    files.set(file, id);
    const type = modelType(String(doc.apiVersion), String(doc.kind));
    writeFileSync(
      join(dir, file),
      `// ${id}\nexport const doc = ${JSON.stringify(doc, null, 2)} satisfies ${type};\n`,
    );
  });
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'es2023',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: [],
      },
      include: ['*.mts'],
    }),
  );
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [repoPath('node_modules', 'typescript', 'bin', 'tsc'), '-p', dir, '--pretty', 'false'],
      { cwd: dir, maxBuffer: 16 * 1024 * 1024, timeout: 60_000 },
      (error, stdout, stderr) => {
        rmSync(dir, { recursive: true, force: true });
        const errors = new Map<string, string[]>();
        for (const line of stdout.split('\n')) {
          const m = /^(doc\d+\.mts)\((\d+),\d+\): error (TS\d+: .*)$/.exec(line);
          if (m) {
            const id = files.get(m[1] as string) as string;
            errors.set(id, [...(errors.get(id) ?? []), `line ${m[2]}: ${m[3]}`]);
          } else if (/^\s/.test(line) && line.trim() !== '') {
            // Continuation of the previous message (tsc wraps long "not assignable" explanations).
            const last = [...errors.values()].at(-1);
            if (last) last[last.length - 1] += ` ${line.trim()}`;
          }
        }
        if (error && errors.size === 0) {
          reject(new Error(`tsc failed without a per-document error: ${stdout}${stderr}`));
          return;
        }
        resolve(docs.map(({ id }) => ({ id, errors: errors.get(id) ?? [] })));
      },
    );
  });
}
