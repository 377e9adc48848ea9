import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { checkDevStack, checkDown, engineObjects } from './dev-stack';
import { REPO, run } from './docker';
import { checkMonitoring } from './monitoring-stack';
import { checkProduction, checkTuning } from './production';
import { Report } from './report';

/**
 * make test-containers, after scripts/containers/test-containers.sh has an engine and the base images: the
 * production image and every compose stack for real, each check read back from the running containers.
 * Exit 1 when any check fails; the stacks are taken down whatever happens.
 */
async function main(): Promise<void> {
  const stateDir = process.env.CONTAINERS_STATE_DIR ?? join(REPO, '.tools/containers');
  await mkdir(stateDir, { recursive: true });
  const report = new Report();
  const started = Date.now();
  const before = await engineObjects();
  // Arguments pick parts (production tuning monitoring dev down); none: all of them, in this order.
  const only = process.argv.slice(2);
  const wanted = (part: string) => only.length === 0 || only.includes(part);
  try {
    if (wanted('production')) await checkProduction(report);
    if (wanted('tuning')) await checkTuning(report);
    if (wanted('monitoring')) await checkMonitoring(report);
    if (wanted('dev')) await checkDevStack(report, stateDir);
    if (wanted('down')) await checkDown(report, before);
  } finally {
    // Whatever failed above: nothing of ours keeps running.
    await run('docker', [
      'compose',
      '-f',
      'docker-compose.yml',
      '-f',
      'docker-compose.monitoring.yml',
      'down',
      '-v',
      '--remove-orphans',
    ]);
    await run('docker', ['compose', '-f', 'docker-compose.dev.yml', 'down', '-v', '--remove-orphans']);
  }
  report.figure('container checks', `${((Date.now() - started) / 1000).toFixed(0)} s`);
  process.stdout.write(`${report.summary()}\n`);
  if (report.failed.length > 0) {
    process.stdout.write(`[containers] ${report.failed.length} check(s) failed\n`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`[containers] ${String(error)}\n`);
  process.exitCode = 1;
});
