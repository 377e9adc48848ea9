/**
 * `make test-chaos`: the full chaos suite (about 5 minutes). Prints one row per fault and exits 1 when any
 * target is missed, 2 when the stack cannot start.
 *
 *   node dist/service/test/chaos/run.js [--short] [--only redis-kill,garbage]
 *     [--demo unabsorbable|majority-spike|wrong-band|alert|impossible-age|history-gap]
 *
 * --demo makes a target fail on purpose, to show that the suite notices: `unabsorbable` holds a fault the
 * service cannot absorb (every source garbage for the outage duration) to the absorb targets,
 * `majority-spike` spikes four of six sources alike (the median follows them out of the band), `wrong-band`
 * judges prices against a band 1% off, `alert` requires an alert that the first fault cannot raise,
 * `impossible-age` requires a worst ageMs of 0, `history-gap` runs the history outage with one point held
 * (HISTORY_PENDING_MAX_POINTS=1: the outage's points are dropped). Each must exit 1.
 */
import { FULL, SHORT, type Profile } from './profiles';
import { formatTable } from './result-table';
import { runSuite, type SuiteOptions } from './suite';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

async function main(): Promise<void> {
  let profile: Profile = process.argv.includes('--short') ? SHORT : FULL;
  const only = arg('--only');
  if (only !== undefined) profile = { ...profile, faults: only.split(',').map((s) => s.trim()) };
  const demo = arg('--demo') as SuiteOptions['demo'];
  const started = Date.now();
  const log = (line: string) =>
    console.log(`[chaos +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);
  log(
    `profile ${profile.name}: ${profile.connections} connections, one request each per ${profile.periodMs} ms, ` +
      `faults ${profile.faults.join(', ')}${demo ? `, demo ${demo}` : ''}`,
  );
  const result = await runSuite(profile, { log, ...(demo ? { demo } : {}) });
  console.log('');
  console.log(formatTable(result));
  const missed = result.rows.filter((r) => r.failures.length > 0);
  console.log('');
  console.log(
    `${result.rows.length} fault(s) in ${(result.durationMs / 1000).toFixed(0)} s: ` +
      (missed.length === 0 ? 'every target met' : `${missed.length} missed a target`),
  );
  process.exit(missed.length === 0 ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(2);
});
