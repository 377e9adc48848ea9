import { readFileSync } from 'node:fs';
import { datasourceRefs, importProblems, type InstanceDatasource } from './dashboard-datasources';
import { DASHBOARDS_DIR, filesIn } from './paths';

// The dashboards must import into any Grafana, not only the one provisioned here with uids prometheus/loki:
// every datasource reference goes through a datasource variable that Grafana resolves on the instance.

/** A Grafana whose datasources are named and identified like nothing in this repository. */
const ELSEWHERE: InstanceDatasource[] = [
  { uid: 'P1809F7CD0C75ACF3', name: 'Mimir (prod-eu)', type: 'prometheus', isDefault: true },
  { uid: 'b7e2a9', name: 'Thanos (archive)', type: 'prometheus' },
  { uid: 'L4k1-logs', name: 'Logs', type: 'loki' },
];

const dashboards = filesIn(DASHBOARDS_DIR, /\.json$/).map((file) => ({
  file,
  json: JSON.parse(readFileSync(file, 'utf8')) as {
    uid: string;
    templating: { list: { name: string; type: string }[] };
  },
}));
const brokenCopy = (json: unknown, from: string, to: string) =>
  JSON.parse(JSON.stringify(json).replaceAll(from, to)) as typeof overview;
const overview = dashboards.find((d) => d.json.uid === 'price-service-overview')
  ?.json as (typeof dashboards)[0]['json'];

describe('Dashboards import into a Grafana whose datasources are named anything', () => {
  it.each(dashboards.map((d) => [d.json.uid, d.json] as const))(
    'When %s is imported there, then every datasource reference resolves through its variable',
    (_uid, json) => {
      expect(importProblems(json, ELSEWHERE)).toEqual([]);
      expect(datasourceRefs(json).length).toBeGreaterThan(0);
      expect(json.templating.list.filter((v) => v.type === 'datasource').length).toBeGreaterThan(0);
    },
  );

  it('When a panel names the provisioned uid instead of the variable, then the import check reports it', () => {
    const broken = brokenCopy(overview, '"uid":"${datasource}"', '"uid":"prometheus"');
    expect(importProblems(broken, ELSEWHERE)).toEqual(
      expect.arrayContaining([expect.stringMatching(/fixed datasource uid "prometheus"/)]),
    );
  });

  it('When a variable is of the wrong plugin type or missing, then the references do not resolve', () => {
    const wrongType = brokenCopy(overview, '"query":"prometheus"', '"query":"loki"');
    expect(importProblems(wrongType, ELSEWHERE)).toEqual(
      expect.arrayContaining([expect.stringMatching(/a prometheus reference resolves to loki "Logs"/)]),
    );
    const renamed = brokenCopy(overview, '"name":"datasource"', '"name":"prom"');
    expect(importProblems(renamed, ELSEWHERE)).toEqual(
      expect.arrayContaining([expect.stringMatching(/\$datasource is not a datasource variable/)]),
    );
    expect(
      importProblems(
        overview,
        ELSEWHERE.filter((d) => d.type !== 'loki'),
      ),
    ).toEqual(expect.arrayContaining([expect.stringMatching(/\$loki_datasource resolves to no datasource/)]));
  });

  it('When a variable pins a datasource or allows several, then it is reported as malformed', () => {
    const pinned = brokenCopy(
      overview,
      '"query":"prometheus"',
      '"query":"prometheus","current":{"value":"prometheus"}',
    );
    expect(importProblems(pinned, ELSEWHERE)).toEqual(
      expect.arrayContaining([expect.stringMatching(/current pins "prometheus"/)]),
    );
    const multi = brokenCopy(
      overview,
      '"type":"datasource","name":"datasource","skipUrlSync":false,"multi":false',
      '"type":"datasource","name":"datasource","skipUrlSync":false,"multi":true',
    );
    expect(importProblems(multi, ELSEWHERE)).toEqual(
      expect.arrayContaining([expect.stringMatching(/exactly one datasource/)]),
    );
  });
});
