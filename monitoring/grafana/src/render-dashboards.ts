/**
 * Renders the five dashboards (one TypeScript module each, built with @grafana/grafana-foundation-sdk)
 * into monitoring/grafana/dashboards/*.json, the files Grafana's provisioning reads.
 *
 *   npx tsx monitoring/grafana/src/render-dashboards.ts           write the JSON files (make generate)
 *   npx tsx monitoring/grafana/src/render-dashboards.ts --check   exit 1 if a committed file is stale
 */
import { join, resolve } from 'node:path';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { writeOrCheck, type GeneratedFile } from '../../generate/generated-files';
import { cacheDashboard } from './cache';
import { overviewDashboard } from './overview';
import { runtimeDashboard } from './runtime';
import { sloDashboard } from './slo';
import { sourcesDashboard } from './sources';

export const DASHBOARDS_DIR = resolve(__dirname, '..', 'dashboards');

export function renderDashboards(): Dashboard[] {
  return [overviewDashboard(), sloDashboard(), sourcesDashboard(), cacheDashboard(), runtimeDashboard()];
}

/** One file per dashboard, named by its uid (the provider reads every .json in the folder). */
export function dashboardFiles(dir = DASHBOARDS_DIR): GeneratedFile[] {
  return renderDashboards().map((d) => ({
    path: join(dir, `${d.uid}.json`),
    content: `${JSON.stringify(d, null, 2)}\n`,
  }));
}

if (require.main === module) {
  process.exitCode = writeOrCheck('monitoring/grafana/src/render-dashboards.ts', dashboardFiles());
}
