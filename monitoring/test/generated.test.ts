import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { load } from 'js-yaml';
import { ruleFiles, withRunbookUrls } from '../alerts/render-rule-files';
import { DEFAULT_RUNBOOK_URL_BASE, runbookUrl, runbookUrlBase } from '../alerts/runbook-url';
import { staleFiles, writeOrCheck, type GeneratedFile } from '../generate/generated-files';
import { dashboardFiles } from '../grafana/src/render-dashboards';
import { SLO_SPEC_PATH, sloDashboard } from '../grafana/src/slo';
import { parseSloSpec } from '../slo/render-rules';

// `make generate` writes these files and `make check-generated` (run by `make lint`) fails when a committed
// copy differs; this suite checks the same in CI and shows the check failing on a stale copy.

const generated = (): GeneratedFile[] => [...ruleFiles(DEFAULT_RUNBOOK_URL_BASE), ...dashboardFiles()];
const quiet = () => jest.spyOn(process.stderr, 'write').mockImplementation(() => true);

describe('Generated files (make generate)', () => {
  it('When every generator renders, then each committed file is exactly its output', () => {
    const files = generated();
    expect(files.map((f) => basename(f.path)).sort()).toEqual([
      'alerts.yml',
      'price-service-cache.json',
      'price-service-overview.json',
      'price-service-runtime.json',
      'price-service-slo.json',
      'price-service-sources.json',
      'prometheus-rule.yaml',
      'slo.yml',
    ]);
    expect(staleFiles(files)).toEqual([]);
  });

  it('When a generated file is edited by hand, then --check exits 1 naming it, and generating again restores it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'generated-'));
    const stderr = quiet();
    try {
      const files = dashboardFiles(dir);
      expect(writeOrCheck('render-dashboards.ts', files, [])).toBe(0);
      const [first] = files as [GeneratedFile];
      writeFileSync(first.path, readFileSync(first.path, 'utf8').replace('"title": "', '"title": "Edited '));
      expect(writeOrCheck('render-dashboards.ts', files, ['--check'])).toBe(1);
      expect(String(stderr.mock.calls[0]?.[0])).toMatch(
        /price-service-overview\.json is stale.*make generate/,
      );
      expect(writeOrCheck('render-dashboards.ts', files, [])).toBe(0);
      expect(writeOrCheck('render-dashboards.ts', files, ['--check'])).toBe(0);
    } finally {
      stderr.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Runbook URLs from one pattern (RUNBOOK_URL_BASE)', () => {
  it('When the base is set, then every alert of all three rule files links below it', () => {
    const base = 'https://git.example.org/sre/price-service/-/blob/main/docs/runbooks';
    for (const file of ruleFiles(base)) {
      const text = file.content;
      const urls = [...text.matchAll(/runbook_url: '?([^'\n]+)'?/g)].map((m) => m[1] as string);
      expect(urls.length).toBeGreaterThan(3);
      for (const url of urls) expect(url).toMatch(new RegExp(`^${base}/[a-z0-9-]+\\.md$`));
      expect(text).not.toContain(DEFAULT_RUNBOOK_URL_BASE);
    }
  });

  it('When the setting is read, then a trailing slash is dropped, unset means the default, and a non-URL is refused', () => {
    expect(runbookUrlBase({ RUNBOOK_URL_BASE: 'https://runbooks.example.org/price/' })).toBe(
      'https://runbooks.example.org/price',
    );
    expect(runbookUrlBase({})).toBe(DEFAULT_RUNBOOK_URL_BASE);
    expect(() => runbookUrlBase({ RUNBOOK_URL_BASE: 'docs/runbooks' })).toThrow('http(s) URL');
    expect(runbookUrl('PriceQuorumLost', 'https://x.test')).toBe('https://x.test/price-quorum-lost.md');
  });

  it('When a source alert carries its own runbook_url, then rendering refuses it (the pattern is the one place)', () => {
    const source = readFileSync(join(__dirname, '..', 'alerts', 'operational-alerts.yml'), 'utf8');
    const handWritten = source.replace(
      "summary: 'Alerting pipeline heartbeat: this alert always fires.'",
      "summary: 'Alerting pipeline heartbeat: this alert always fires.'\n          runbook_url: docs/x.md",
    );
    expect(() => withRunbookUrls(handWritten, DEFAULT_RUNBOOK_URL_BASE)).toThrow('written by the renderer');
  });

  it('When the source is rendered, then only runbook_url lines are added and the comments stay', () => {
    const source = readFileSync(join(__dirname, '..', 'alerts', 'operational-alerts.yml'), 'utf8');
    const rendered = withRunbookUrls(source, DEFAULT_RUNBOOK_URL_BASE);
    const added = rendered.split('\n').filter((line) => !source.split('\n').includes(line));
    const alerts = (load(source) as { groups: { rules: { alert?: string }[] }[] }).groups.flatMap(
      (g) => g.rules,
    );
    expect(added).toHaveLength(alerts.filter((r) => r.alert).length);
    for (const line of added) expect(line).toMatch(/^ {10}runbook_url: 'https:\/\/.+\.md'$/);
    expect(rendered).toContain('# Always firing.');
  });
});

describe('The SLO dashboard reads its thresholds from slos.yml', () => {
  const specText = readFileSync(SLO_SPEC_PATH, 'utf8');
  type Panel = {
    title: string;
    fieldConfig: { defaults: { thresholds: { steps: { value: number | null }[] } } };
  };
  const steps = (spec: ReturnType<typeof parseSloSpec>, title: string) =>
    (sloDashboard(spec).panels as unknown as Panel[])
      .find((p) => p.title === title)
      ?.fieldConfig.defaults.thresholds.steps.map((s) => s.value);

  it('When the objective or a burn rate changes in the spec, then the panels change with it', () => {
    const spec = parseSloSpec(specText);
    expect(steps(spec, 'Availability SLI, 30 days')).toEqual([null, 0.999]);
    expect(steps(spec, 'Availability burn rate by window')).toEqual([null, 1, 3, 6, 14.4]);
    const changed = parseSloSpec(
      specText.replace('objective: 0.999', 'objective: 0.995').replace('burn_rate: 14.4', 'burn_rate: 12'),
    );
    expect(steps(changed, 'Availability SLI, 30 days')).toEqual([null, 0.995]);
    expect(steps(changed, 'Availability burn rate by window')).toEqual([null, 1, 3, 6, 12]);
    expect(steps(changed, 'Latency burn rate, 1h')).toEqual([null, 1, 6, 12]);
  });
});
