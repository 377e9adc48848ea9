import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { lintScript, planOf, type ArtilleryScript } from '../src/scenario-plan';
import { SCENARIOS } from '../src/scenarios';

const DIR = path.resolve(__dirname, '../scenarios');
const read = (file: string) => load(readFileSync(path.join(DIR, file), 'utf8')) as ArtilleryScript;
const ymlFiles = (dir: string): string[] =>
  readdirSync(path.join(DIR, dir)).flatMap((name) => {
    const rel = path.join(dir, name);
    if (statSync(path.join(DIR, rel)).isDirectory()) return ymlFiles(rel);
    return name.endsWith('.yml') ? [rel] : [];
  });

describe('the scenario files', () => {
  it('are each in the catalogue, and the catalogue names only files that exist', () => {
    expect(ymlFiles('').sort()).toEqual(SCENARIOS.map((s) => s.file).sort());
  });

  it('the short suite CI runs is smoke and steady', () => {
    expect(SCENARIOS.filter((s) => s.suites.includes('short')).map((s) => s.name)).toEqual([
      'smoke',
      'steady',
    ]);
  });

  it.each(SCENARIOS.map((s) => s.file))('%s has none of the traps', (file) => {
    expect(lintScript(read(file))).toEqual([]);
  });

  it('plans steady as 300-odd users connecting over 5 s and polling for 30 s', () => {
    expect(planOf(read('steady.yml'))).toEqual({
      arrivalSeconds: 5,
      flowSeconds: 30,
      plannedSeconds: 35,
      plannedArrivals: 310,
    });
  });

  it('plans history-mix as 220 users over 5 s, the history readers (2 s, then 6 x 5 s) setting the length', () => {
    expect(planOf(read('history-mix.yml'))).toEqual({
      arrivalSeconds: 5,
      flowSeconds: 32,
      plannedSeconds: 37,
      plannedArrivals: 220,
    });
  });

  it('has smoke, in the short suite, call every history route (their load stays in the full suite)', () => {
    const urls = JSON.stringify(read('smoke.yml').scenarios);
    for (const path of ['/at/', '/candles', '/twap?', '/api/v1/prices?pairs=']) expect(urls).toContain(path);
  });

  it('counts a ramp at its average rate', () => {
    expect(planOf(read('cold-start.yml'))).toMatchObject({ arrivalSeconds: 20, plannedArrivals: 450 });
  });
});

describe('the scenario linter rejects the traps that make a gate lie or hang', () => {
  const base = (): ArtilleryScript => ({
    config: { target: 'http://127.0.0.1:8000', phases: [{ duration: 5, arrivalRate: 5 }] },
    scenarios: [{ flow: [{ get: { url: '/api/v1/prices/eth-usdt' } }, { think: '1s' }] }],
  });
  const lint = (change: (s: ArtilleryScript) => void) => {
    const script = base();
    change(script);
    return lintScript(script).join('\n');
  };

  it('passes the sound base script', () => {
    expect(lintScript(base())).toEqual([]);
  });

  it.each([
    [
      'a top-level ensure, which Artillery ignores',
      (s: ArtilleryScript) => (s.config.ensure = { p99: 100 }),
      'config.ensure is ignored',
    ],
    [
      'thresholds copied into the file',
      (s: ArtilleryScript) => (s.config.plugins = { ensure: {} }),
      'come from monitoring/slo/slos.yml',
    ],
    [
      'a bare-number think',
      (s: ArtilleryScript) => (s.scenarios[0]!.flow[1] = { think: 0.1 }),
      'a bare number is ambiguous',
    ],
    [
      'a conditional request that follows "redirects"',
      (s: ArtilleryScript) =>
        (s.scenarios[0]!.flow[0] = { get: { url: '/', headers: { 'If-None-Match': 'x' } } }),
      'needs followRedirect: false',
    ],
    [
      'a high constant arrival rate',
      (s: ArtilleryScript) => (s.config.phases = [{ duration: 5, arrivalRate: 100 }]),
      'busy-waits a core',
    ],
    [
      'an endless loop',
      (s: ArtilleryScript) => (s.scenarios[0]!.flow = [{ loop: [{ think: '1s' }] }]),
      'a loop needs a whole count',
    ],
    ['no phases', (s: ArtilleryScript) => (s.config.phases = []), 'no phase'],
    [
      'a phase without a duration',
      (s: ArtilleryScript) => (s.config.phases = [{ arrivalRate: 5 }]),
      'no duration',
    ],
    [
      'a nonsense duration',
      (s: ArtilleryScript) => (s.scenarios[0]!.flow[1] = { think: 'soon' }),
      'is not a duration',
    ],
  ])('rejects %s', (_what, change, message) => {
    expect(lint(change)).toContain(message);
  });
});
