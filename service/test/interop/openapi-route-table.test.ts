import openapi from '../../openapi.json';
import { OTHER_METHODS, documentPath, render, routeTable } from './render-openapi-methods';

// The OpenAPI document against the route table: the same paths, GET and HEAD on each, 405 for every other
// method, and the statuses the route's metrics know of documented on its GET.
type Operations = Record<string, { responses: Record<string, unknown> }>;
const paths = openapi.paths as unknown as Record<string, Operations>;

test('When the document is rendered again from the route table, then nothing changes (make generate)', () => {
  expect(render(openapi as never, routeTable())).toEqual(openapi);
});

test('When a route is in the table, then the document has it with GET, HEAD and a 405 (or an earlier refusal) for every other method', () => {
  const routes = routeTable();
  expect(Object.keys(paths).sort()).toEqual(routes.map(documentPath).sort());
  for (const route of routes) {
    const operations = paths[documentPath(route)] as Operations;
    const methods = Object.keys(operations).filter((key) => key !== 'parameters');
    expect([route.path, methods.sort()]).toEqual([route.path, ['get', 'head', ...OTHER_METHODS].sort()]);
    expect(route.allow).toBe('GET, HEAD');
    // 405, and the refusals made before the method is looked at (a POST with a large body gets 413).
    for (const method of OTHER_METHODS) {
      const statuses = Object.keys(operations[method]!.responses);
      expect([route.path, method, statuses.includes('405')]).toEqual([route.path, method, true]);
      expect([route.path, method, statuses.includes('413')]).toEqual([route.path, method, true]);
      expect([route.path, method, statuses.includes('429')]).toEqual([route.path, method, route.rateLimited]);
    }
    const documented = Object.keys(operations.get!.responses).map(Number);
    // GET documents the refusals made before any route too (parser, size and time limits).
    expect([route.path, documented]).toEqual([
      route.path,
      expect.arrayContaining([400, 408, 413, 417, 431, ...(route.rateLimited ? [429] : [])]),
    ]);
    expect([route.path, documented]).toEqual([
      route.path,
      expect.arrayContaining([200, ...(route.knownStatuses ?? [])]),
    ]);
    expect(Object.keys(operations.head!.responses)).toEqual(Object.keys(operations.get!.responses));
  }
});
