/**
 * Compares the generated dashboards with the hand-written JSON they replaced (or any earlier commit):
 * every value the old JSON had must be in the new one, unchanged. Run once when the generator changes what
 * it renders, to list the differences and decide each one:
 *
 *   npx tsx monitoring/grafana/src/compare-dashboards.ts [GIT_REF]     (default e03c604, the last hand-written)
 *
 * Reported: values that changed, and keys the old JSON had that the new one lacks ("missing"). Keys only the
 * new JSON has (SDK defaults such as transparent: false) are counted per key, not listed one by one. The
 * datasource uid is compared as "a template variable" vs "a fixed uid", since replacing the fixed uids is
 * the point; panels are matched by position.
 */
import { execFileSync } from 'node:child_process';
import { renderDashboards } from './render-dashboards';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function diff(oldValue: Json, newValue: Json, path: string, out: string[], extra: Map<string, number>): void {
  if (
    oldValue !== null &&
    typeof oldValue === 'object' &&
    newValue !== null &&
    typeof newValue === 'object'
  ) {
    if (Array.isArray(oldValue) !== Array.isArray(newValue)) {
      out.push(`${path}: ${JSON.stringify(oldValue)} -> ${JSON.stringify(newValue)}`);
      return;
    }
    const o = oldValue as Record<string, Json>;
    const n = newValue as Record<string, Json>;
    for (const key of Object.keys(o)) {
      if (!(key in n)) out.push(`${path}.${key}: missing (was ${JSON.stringify(o[key])})`);
      else diff(o[key] as Json, n[key] as Json, `${path}.${key}`, out, extra);
    }
    for (const key of Object.keys(n)) {
      if (!(key in o)) {
        const pattern = `${path.replace(/\[\d+\]/g, '[]').replace(/^[^.]+/, '')}.${key}`;
        extra.set(pattern, (extra.get(pattern) ?? 0) + 1);
      }
    }
    return;
  }
  if (JSON.stringify(oldValue) !== JSON.stringify(newValue))
    out.push(`${path}: ${JSON.stringify(oldValue)} -> ${JSON.stringify(newValue)}`);
}

/**
 * Datasource refs keep their type only (the fixed uid `prometheus` becoming `${datasource}` is the point of
 * the change, counted apart); template variables are keyed by name, since the new datasource variables come
 * first and shift the others.
 */
function normalise(value: Json, fixedUids: string[]): Json {
  if (Array.isArray(value)) return value.map((v) => normalise(v, fixedUids));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, Json> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === 'datasource' && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const uid = String(v.uid ?? '');
      if (!uid.startsWith('$') && !uid.startsWith('--')) fixedUids.push(uid);
      out[key] = { type: v.type ?? null };
    } else if (key === 'templating' && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const list = (v.list ?? []) as { name: string }[];
      out[key] = Object.fromEntries(list.map((x) => [x.name, normalise(x as Json, fixedUids)]));
    } else out[key] = normalise(v, fixedUids);
  }
  return out;
}

const ref = process.argv[2] ?? 'e03c604';
let differences = 0;
for (const dashboard of renderDashboards()) {
  const path = `monitoring/grafana/dashboards/${dashboard.uid}.json`;
  const old = JSON.parse(execFileSync('git', ['show', `${ref}:${path}`], { encoding: 'utf8' })) as Json;
  const out: string[] = [];
  const extra = new Map<string, number>();
  const oldFixed: string[] = [];
  const newFixed: string[] = [];
  const before = normalise(old, oldFixed);
  const after = normalise(JSON.parse(JSON.stringify(dashboard)) as Json, newFixed);
  diff(before, after, dashboard.uid ?? '', out, extra);
  differences += out.length + newFixed.length;
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`\n== ${dashboard.uid}: ${out.length} difference(s)`);
  say(`  fixed datasource uids: ${oldFixed.length} before, ${newFixed.length} now ${newFixed.join(' ')}`);
  for (const line of out) say(`  ${line}`);
  say(`  keys only in the generated JSON: ${[...extra].map(([k, n]) => `${k} ×${n}`).join(', ')}`);
}
process.stdout.write(`\n${differences} difference(s) in all\n`);
