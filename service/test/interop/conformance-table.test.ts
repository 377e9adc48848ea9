import { readFileSync } from 'node:fs';
import path from 'node:path';
import { documentPath, routeTable } from './render-openapi-methods';

// docs/api.md's conformance table has one row per route of the table, and says what the table says about
// methods and the rate limit; a new route without a row fails here.
const DOC = readFileSync(path.join(__dirname, '../../../docs/api.md'), 'utf8');

function conformanceRows(): Map<string, string[]> {
  const start = DOC.indexOf('## HTTP conformance');
  const end = DOC.indexOf('\n## ', start + 1);
  const rows = new Map<string, string[]>();
  for (const line of DOC.slice(start, end).split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const route = /^`([^`]+)`$/.exec(cells[1] ?? '')?.[1];
    if (route !== undefined) rows.set(route, cells.slice(2, -1));
  }
  return rows;
}

test('When docs/api.md is read, then its conformance table has exactly one row per route', () => {
  expect(DOC).toContain('## HTTP conformance');
  expect([...conformanceRows().keys()].sort()).toEqual(routeTable().map(documentPath).sort());
});

test("When a route's row is read, then its methods and rate limit are the route table's", () => {
  const rows = conformanceRows();
  for (const route of routeTable()) {
    const [methods, , , errors] = rows.get(documentPath(route)) as string[];
    expect([route.path, methods]).toEqual([route.path, `${route.allow}; 405 otherwise`]);
    expect([route.path, errors?.includes('(rate limited)')]).toEqual([route.path, route.rateLimited]);
  }
});
