/**
 * How Grafana resolves a dashboard's datasource references when the dashboard is imported into an instance
 * whose datasources have any names and uids: a reference `${name}` is replaced by the datasource that the
 * datasource variable `name` selects (its `query` is the plugin type; with nothing pinned in `current`,
 * Grafana selects the instance's default datasource of that type, else the first one). A reference by a
 * literal uid only resolves where a datasource happens to have that uid, which is what the dashboards must
 * not rely on.
 */
export interface InstanceDatasource {
  uid: string;
  name: string;
  type: string;
  isDefault?: boolean;
}

interface Ref {
  type?: string;
  uid?: string;
}
interface DatasourceVariable {
  name: string;
  type: string;
  query?: unknown;
  current?: { value?: unknown };
  regex?: string;
  multi?: boolean;
  includeAll?: boolean;
}

/** Every `datasource` object anywhere in the dashboard, with the JSON path where it sits. */
export function datasourceRefs(json: unknown, path = ''): { path: string; ref: Ref }[] {
  if (Array.isArray(json)) return json.flatMap((v, i) => datasourceRefs(v, `${path}[${i}]`));
  if (json === null || typeof json !== 'object') return [];
  return Object.entries(json).flatMap(([key, value]) =>
    key === 'datasource' && value !== null && typeof value === 'object'
      ? [{ path: `${path}.${key}`, ref: value as Ref }]
      : datasourceRefs(value, `${path}.${key}`),
  );
}

const VARIABLE_REF = /^\$\{(\w+)\}$|^\$(\w+)$/;
const BUILT_IN = (ref: Ref) => ref.type === 'grafana' || ref.type === 'datasource';

/**
 * Problems importing `dashboard` into an instance with `datasources`: references that do not go through a
 * well-formed datasource variable, or that resolve to no datasource of the right type. Empty means it imports.
 */
export function importProblems(
  dashboard: { templating?: { list?: DatasourceVariable[] } },
  datasources: InstanceDatasource[],
): string[] {
  const problems: string[] = [];
  const variables = (dashboard.templating?.list ?? []).filter((v) => v.type === 'datasource');
  const resolved = new Map<string, InstanceDatasource | undefined>();
  for (const v of variables) {
    const pluginType = typeof v.query === 'string' ? v.query : undefined;
    if (pluginType === undefined || pluginType === '')
      problems.push(`variable $${v.name}: query must be the plugin type`);
    if (v.multi || v.includeAll)
      problems.push(`variable $${v.name}: a panel needs exactly one datasource (multi/includeAll)`);
    if (v.regex)
      problems.push(`variable $${v.name}: regex "${v.regex}" may exclude the instance's datasources`);
    if (v.current?.value !== undefined && v.current.value !== '')
      problems.push(`variable $${v.name}: current pins ${JSON.stringify(v.current.value)}`);
    const candidates = datasources.filter((d) => d.type === pluginType);
    resolved.set(v.name, candidates.find((d) => d.isDefault) ?? candidates[0]);
  }
  const used = new Set<string>();
  for (const { path, ref } of datasourceRefs(dashboard)) {
    if (BUILT_IN(ref)) continue;
    const match = VARIABLE_REF.exec(ref.uid ?? '');
    const name = match?.[1] ?? match?.[2];
    if (name === undefined) {
      problems.push(`${path}: fixed datasource uid "${ref.uid}"`);
      continue;
    }
    used.add(name);
    if (!resolved.has(name)) {
      problems.push(`${path}: $${name} is not a datasource variable of the dashboard`);
      continue;
    }
    const target = resolved.get(name);
    if (target === undefined) problems.push(`${path}: $${name} resolves to no datasource`);
    else if (ref.type !== undefined && target.type !== ref.type)
      problems.push(`${path}: a ${ref.type} reference resolves to ${target.type} "${target.name}"`);
  }
  for (const v of variables)
    if (!used.has(v.name)) problems.push(`variable $${v.name}: no panel or query uses it`);
  return problems;
}
