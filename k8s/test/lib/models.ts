import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { Doc } from './kubectl';
import { REPO_ROOT } from './paths';

export interface ModelResult {
  id: string;
  errors: string[];
}

/** Every document through kubernetes-models' validate() (schema types, enums, patterns, required fields). */
export function validateWithModels(docs: { id: string; doc: Doc }[]): Promise<ModelResult[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [join(__dirname, 'validate-models.mjs')],
      { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 30_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`validate-models failed: ${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as ModelResult[]);
      },
    );
    child.stdin?.end(JSON.stringify(docs));
  });
}
