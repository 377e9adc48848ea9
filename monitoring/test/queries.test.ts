import { join } from 'node:path';
import { parseLogQL } from './logql';
import { parsePromQL } from './promql';
import {
  allQueries,
  dashboardQueries,
  datasourceQueries,
  loadDashboard,
  ruleQueries,
  type Query,
} from './queries';

const FIXTURES = join(__dirname, 'fixtures', 'broken-queries');
const errorsOf = (q: Query) => (q.language === 'promql' ? parsePromQL(q.expr) : parseLogQL(q.expr)).errors;

const queries = allQueries();

describe('Every query of the monitoring tree is parsed by the real grammar', () => {
  it('When the queries are collected, then rules, panels, annotations, variables and datasources all contribute', () => {
    const kinds = (language: string) =>
      new Set(queries.filter((q) => q.language === language).map((q) => q.kind));
    expect([...kinds('promql')].sort()).toEqual(['annotation', 'datasource', 'panel', 'rule', 'variable']);
    expect([...kinds('logql')].sort()).toEqual(['datasource', 'panel']);
    expect(queries.length).toBeGreaterThan(100);
  });

  it.each(queries.map((q) => [q.language, q.where, q] as const))(
    'When the %s of %s is parsed, then it has no syntax error',
    (_language, _where, query) => {
      expect(errorsOf(query)).toEqual([]);
    },
  );
});

describe('A query that does not parse fails the check (broken fixtures)', () => {
  it('When a dashboard has broken PromQL and LogQL targets, variable and annotation, then each is reported', () => {
    const broken = dashboardQueries(loadDashboard(join(FIXTURES, 'dashboard.json')));
    expect(broken.map((q) => [q.where, errorsOf(q).length > 0])).toEqual([
      ['dashboard › Unclosed parenthesis [A]', true],
      ['dashboard › Unclosed stream selector [A]', true],
      ['dashboard › annotation Bad annotation', true],
      ['dashboard › variable $pair', true],
    ]);
  });

  it('When a rule file has expressions that are not PromQL, then each is reported', () => {
    const broken = ruleQueries([join(FIXTURES, 'rules.yml')]);
    expect(broken.map((q) => [q.rule, errorsOf(q).length > 0])).toEqual([
      ['BrokenBinaryOperator', true],
      ['job:broken:rate5m', true],
    ]);
  });

  it('When a datasource embeds a broken query, then the PromQL and the LogQL are both reported', () => {
    const broken = datasourceQueries([join(FIXTURES, 'datasources.yml')]);
    expect(broken.map((q) => [q.language, errorsOf(q).length > 0])).toEqual([
      ['promql', true],
      ['logql', true],
    ]);
  });

  it('When a valid expression is parsed, then the same parsers report nothing (the check is not always failing)', () => {
    expect(
      parsePromQL('sum by (job) (rate(price_responses_total{job="price-service"}[$__rate_interval]))').errors,
    ).toEqual([]);
    expect(parseLogQL('{compose_service="price-service"} | json | level="error"').errors).toEqual([]);
  });
});
