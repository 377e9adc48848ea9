import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import type { Doc } from './kubectl';

/** `promtool check rules` on a PrometheusRule's spec (the same groups a rule file holds). */
export function promtoolCheckRules(rule: Doc): Promise<{ ok: boolean; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'prometheus-rule-'));
  const file = join(dir, `${rule.metadata.name}.yml`);
  writeFileSync(file, dump((rule as unknown as { spec: unknown }).spec, { lineWidth: -1 }));
  return new Promise((resolve) => {
    execFile('promtool', ['check', 'rules', file], { timeout: 30_000 }, (error, stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ ok: !error, output: `${stdout}${stderr}`.replaceAll(dir, '.') });
    });
  });
}
