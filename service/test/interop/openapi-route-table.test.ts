import openapi from '../../openapi.json';
import { OTHER_METHODS, documentPath, render, routeTable } from './render-openapi-methods';

// The OpenAPI document against the route table: the same paths, GET and HEAD on each, 405 for every other
// method, and the statuses the route's metrics know of documented on its GET.
type Operations = Record<string, { responses: Record<string, unknown> }>;
const paths = openapi.paths as unknown as Record<string, Operations>;

test('When the document is rendered again from the route table, then nothing changes (make generate)', () => {
  expect(render(openapi as never, routeTable())).toEqual(openapi);
});

test('When a route is in the table, then the document has it with GET, HEAD and a 405 for every other method', () => {
  const routes = routeTable();
  expect(Object.keys(paths).sort()).toEqual(routes.map(documentPath).sort());
  for (const route of routes) {
    const operations = paths[documentPath(route)] as Operations;
    const methods = Object.keys(operations).filter((key) => key !== 'parameters');
    expect([route.path, methods.sort()]).toEqual([route.path, ['get', 'head', ...OTHER_METHODS].sort()]);
    expect(route.allow).toBe('GET, HEAD');
    for (const method of OTHER_METHODS) {
      expect([route.path, method, Object.keys(operations[method]!.responses)]).toEqual([
        route.path,
        method,
        ['405'],
      ]);
    }
    const documented = Object.keys(operations.get!.responses).map(Number);
    expect([route.path, documented]).toEqual([
      route.path,
      expect.arrayContaining([200, ...(route.knownStatuses ?? [])]),
    ]);
    expect(Object.keys(operations.head!.responses)).toEqual(Object.keys(operations.get!.responses));
  }
});
