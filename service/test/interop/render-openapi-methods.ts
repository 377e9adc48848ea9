/**
 * Generator (make generate / make check-generated): the HEAD and 405 operations of service/openapi.json,
 * derived from the route table (presentation/routes.ts). Every route answers GET and HEAD and gives every
 * other method 405 with `Allow`; the GET operation is written by hand, its HEAD twin and the 405s are not.
 *
 *   npx tsx service/test/interop/render-openapi-methods.ts          rewrites service/openapi.json
 *   npx tsx service/test/interop/render-openapi-methods.ts --check  exits 1 when it is stale
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Route } from '../../src/presentation/routes';
import { stubRoutes } from '../fixtures/route-table';

const DOCUMENT = path.join(__dirname, '../../openapi.json');
/** Every method an OpenAPI path item can describe other than GET and HEAD: all of them answer 405. */
export const OTHER_METHODS = ['put', 'post', 'delete', 'options', 'patch', 'trace'] as const;

interface Operation {
  operationId?: string;
  summary?: string;
  parameters?: { in: string }[];
  responses: Record<string, unknown>;
}
type PathItem = Record<string, Operation>;
interface Document {
  paths: Record<string, PathItem>;
  components: { responses: Record<string, unknown> };
}

/** The route table itself (its handlers are not needed to know its paths and methods). */
export function routeTable(): readonly Route[] {
  return stubRoutes();
}

/** `/api/v1/prices/:pair` → `/api/v1/prices/{pair}` */
export const documentPath = (route: Route) => route.path.replace(/:(\w+)/g, '{$1}');

const METHOD_NOT_ALLOWED = {
  description: 'Any method but GET and HEAD: a problem+json naming the allowed ones',
  headers: { Allow: { schema: { type: 'string', const: 'GET, HEAD' } } },
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
};

/**
 * Answers given before the method is looked at (the request guard, and the rate limit on the routes it
 * counts, run first): a POST with too large a body gets 413, not 405.
 */
const BEFORE_ANY_ROUTE: Record<string, string> = {
  '400': 'BadRequest',
  '408': 'RequestTimeout',
  '413': 'PayloadTooLarge',
  '417': 'ExpectationFailed',
  '431': 'RequestHeaderFieldsTooLarge',
};

function refusalsBeforeAnyRoute(route: Route): Record<string, { $ref: string }> {
  const names = { ...BEFORE_ANY_ROUTE, ...(route.rateLimited && { '429': 'RateLimited' }) };
  return Object.fromEntries(
    Object.entries(names).map(([status, name]) => [status, { $ref: `#/components/responses/${name}` }]),
  );
}

export function render(document: Document, routes: readonly Route[]): Document {
  const problems: string[] = [];
  const paths: Record<string, PathItem> = {};
  for (const route of routes) {
    const key = documentPath(route);
    const get = document.paths[key]?.get;
    if (get === undefined) {
      problems.push(`${key}: the route table has it, service/openapi.json has no GET for it: write one`);
      continue;
    }
    // GET never answers 405 itself: that belongs to the other methods.
    const getResponses = Object.fromEntries(Object.entries(get.responses).filter(([s]) => s !== '405'));
    const pathParameters = (get.parameters ?? []).filter((p) => p.in === 'path');
    const id = get.operationId ?? key;
    const item: PathItem = {
      get: { ...get, responses: getResponses },
      head: {
        ...get,
        operationId: `${id}Head`,
        summary: `GET's status and headers without the body`,
        responses: getResponses,
      },
    };
    for (const method of OTHER_METHODS) {
      item[method] = {
        operationId: `${id}${method[0]!.toUpperCase()}${method.slice(1)}NotAllowed`,
        summary: `Not allowed: 405, Allow: ${route.allow}`,
        ...(pathParameters.length > 0 && { parameters: pathParameters }),
        responses: Object.fromEntries(
          Object.entries({
            ...refusalsBeforeAnyRoute(route),
            '405': { $ref: '#/components/responses/MethodNotAllowed' },
          }).sort(([a], [b]) => a.localeCompare(b)),
        ),
      };
    }
    paths[key] = item;
  }
  for (const key of Object.keys(document.paths)) {
    if (!(key in paths) && !problems.some((p) => p.startsWith(key))) {
      problems.push(`${key}: documented in service/openapi.json but not in the route table`);
    }
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return {
    ...document,
    paths,
    components: {
      ...document.components,
      responses: { ...document.components.responses, MethodNotAllowed: METHOD_NOT_ALLOWED },
    },
  };
}

async function main(): Promise<void> {
  // Loaded here, not at the top: the tests import this module, and prettier does not load under Jest.
  const prettier = await import('prettier');
  const current = readFileSync(DOCUMENT, 'utf8');
  const rendered = render(JSON.parse(current) as Document, routeTable());
  const text = await prettier.format(JSON.stringify(rendered, null, 2), {
    ...(await prettier.resolveConfig(DOCUMENT)),
    filepath: DOCUMENT,
  });
  if (!process.argv.includes('--check')) {
    writeFileSync(DOCUMENT, text);
    return;
  }
  if (text !== current) {
    console.error(
      'service/openapi.json: its HEAD and 405 operations differ from the route table: run make generate',
    );
    process.exit(1);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error((error as Error).message);
    process.exit(1);
  });
}
