import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../../scripts/lib/free-port';
import { startMockExchange, type MockExchange } from '../../../mock-exchange/src/mock-exchange';
import { eventually } from '../helpers/metrics';
import { startService, type TestService } from '../helpers/service';
import { OTHER_METHODS, documentPath, routeTable } from './render-openapi-methods';

// Stoplight Prism in proxy mode validates the service's real responses against service/openapi.json, and
// redocly lints the document. Both are heavy CLIs installed on demand into tools/ by `make test-interop`.
const TOOLS = path.join(__dirname, 'tools');
const BIN = path.join(TOOLS, 'node_modules/.bin');
const DOCUMENT = path.join(__dirname, '../../openapi.json');
const installed = existsSync(path.join(BIN, 'prism')) && existsSync(path.join(BIN, 'redocly'));
if (!installed)
  console.warn('Prism and redocly are not installed: skipping them (make test-interop installs them)');
const describeWithTools = installed ? describe : describe.skip;

const redoclyLint = (file: string) =>
  spawnSync(path.join(BIN, 'redocly'), ['lint', file, '--config', path.join(TOOLS, 'redocly.yaml')], {
    encoding: 'utf8',
  });

interface Prism {
  readonly url: string;
  stop(): Promise<void>;
}

async function startPrism(document: string, upstream: string, extraArgs: string[] = []): Promise<Prism> {
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn(
    path.join(BIN, 'prism'),
    [
      'proxy',
      document,
      upstream,
      '--port',
      String(port),
      '--errors',
      '--cors=false',
      '-v',
      'error',
      ...extraArgs,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`prism exited: ${output}`);
      return fetch(`${url}/health/liveness`).then(
        (res) => res.status,
        () => 0,
      );
    },
    (status) => status !== 0,
    { timeoutMs: 60_000, intervalMs: 200, what: `prism listening (${output})` },
  );
  return {
    url,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** One request through Prism: its status, and the violations Prism found (header or error body). */
async function through(
  prism: Prism,
  urlPath: string,
  method = 'GET',
  headers: Record<string, string> = {},
  requestBody?: string,
) {
  // A connection Prism's upstream pool found closed is a transport hiccup on a busy machine, not a
  // violation: asked again once. A second failure is reported as one.
  const send = () => fetch(`${prism.url}${urlPath}`, { method, headers, body: requestBody });
  let res: Response;
  try {
    res = await send();
  } catch {
    res = await send().catch((error: unknown) => {
      throw new Error(`${method} ${urlPath} through Prism: ${String((error as Error).cause ?? error)}`);
    });
  }
  const body = await res.text();
  const violations = res.headers.get('sl-violations') ?? (body.includes('prism/errors') ? body : undefined);
  return { status: res.status, etag: res.headers.get('etag') ?? '', violations };
}

const urlOf = (routePath: string) => routePath.replace(':pair', 'eth-usdt');

describeWithTools('the OpenAPI document against real validators', () => {
  let mock: MockExchange;
  let service: TestService;
  let prism: Prism;
  let scratch: string;

  beforeAll(async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'openapi-interop-'));
    mock = await startMockExchange();
    service = await startService({ MOCK_EXCHANGE_URL: mock.url });
    prism = await startPrism(DOCUMENT, service.url);
    await eventually(
      async () => (await fetch(`${service.url}/api/v1/prices/eth-usdt`)).status,
      (status) => status === 200,
      { what: 'a first price' },
    );
  }, 90_000);
  afterAll(async () => {
    await prism?.stop();
    await service?.stop();
    await mock?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test('When redocly lints the document, then it passes (with the exceptions reasoned in tools/redocly.yaml)', () => {
    const result = redoclyLint(DOCUMENT);
    expect([result.status, result.status === 0 ? '' : result.stdout + result.stderr]).toEqual([0, '']);
  });

  test('When an operation loses its security declaration, then redocly fails (the lint can fail)', () => {
    const document = JSON.parse(readFileSync(DOCUMENT, 'utf8')) as Record<string, unknown>;
    delete document.security;
    const broken = path.join(scratch, 'no-security.json');
    writeFileSync(broken, JSON.stringify(document));
    expect(redoclyLint(broken).status).not.toBe(0);
  });

  test('When every route is asked GET, HEAD, a conditional GET and every other method through Prism, then there is no violation', async () => {
    const results: string[] = [];
    for (const route of routeTable()) {
      if (route.longLived) continue; // Prism buffers text/event-stream: a stream through it never arrives.
      const url = urlOf(route.path);
      const get = await through(prism, url);
      results.push(`GET ${url} ${get.status} ${get.violations ?? 'ok'}`);
      const head = await through(prism, url, 'HEAD');
      results.push(`HEAD ${url} ${head.status} ${head.violations ?? 'ok'}`);
      if (get.etag !== '') {
        const conditional = await through(prism, url, 'GET', { 'If-None-Match': get.etag });
        results.push(`GET ${url} If-None-Match ${conditional.violations ?? 'ok'}`);
      }
      // fetch refuses TRACE; the others are what clients send.
      for (const method of OTHER_METHODS.filter((m) => m !== 'trace')) {
        const other = await through(prism, url, method.toUpperCase());
        results.push(`${method.toUpperCase()} ${url} ${other.status} ${other.violations ?? 'ok'}`);
      }
      expect(documentPath(route)).toBeTruthy();
    }
    const unknownPair = await through(prism, '/api/v1/prices/doge-usdt');
    results.push(`GET unknown pair ${unknownPair.status} ${unknownPair.violations ?? 'ok'}`);
    expect(results.filter((line) => !line.endsWith(' ok'))).toEqual([]);
    expect(results.some((line) => line.startsWith('GET /api/v1/prices/eth-usdt 200'))).toBe(true);
    expect(results.some((line) => line.startsWith('POST /api/ 405'))).toBe(true);
    expect(unknownPair.status).toBe(404);
  });

  test('When every source fails, then the 503s of the price and readiness pass Prism too', async () => {
    await mock.client.setFault('*', { type: 'status', status: 503 });
    try {
      const price = await eventually(
        () => through(prism, '/api/v1/prices/eth-usdt'),
        (r) => r.status === 503,
        { what: 'a 503 price through Prism', timeoutMs: 20_000 },
      );
      const readiness = await through(prism, '/health/readiness');
      expect([price.violations, readiness.status, readiness.violations]).toEqual([undefined, 503, undefined]);
    } finally {
      await mock.client.clearFault('*');
    }
  });

  test('When requests are refused before any route (400, 413, 429, 431), then those answers pass Prism too', async () => {
    // A second replica with small limits, so the refusals are easy to provoke without touching the first.
    const strict = await startService({
      MOCK_EXCHANGE_URL: mock.url,
      RATE_LIMIT_REQUESTS: '20',
      RATE_LIMIT_WINDOW_SECONDS: '60',
      MAX_BODY_BYTES: '64',
      MAX_HEADER_BYTES: '2048',
    });
    // The requests are wrong on purpose: Prism passes them on and checks only what the service answers.
    const strictPrism = await startPrism(DOCUMENT, strict.url, ['--validate-request=false']);
    try {
      const results: string[] = [];
      const record = (what: string, r: { status: number; violations?: string }) =>
        results.push(`${what} ${r.status} ${r.violations ?? 'ok'}`);
      record('bad parameter', await through(strictPrism, '/api/v1/prices/eth-usdt/candles?interval=7m'));
      record('body too large', await through(strictPrism, '/api/', 'POST', {}, 'x'.repeat(1000)));
      record(
        'header too large',
        await through(strictPrism, '/api/', 'GET', { 'X-Filler': 'y'.repeat(4000) }),
      );
      let limited = await through(strictPrism, '/api/');
      for (let i = 0; i < 40 && limited.status !== 429; i++) limited = await through(strictPrism, '/api/');
      record('rate limited', limited);
      expect(results).toEqual([
        'bad parameter 400 ok',
        'body too large 413 ok',
        'header too large 431 ok',
        'rate limited 429 ok',
      ]);
    } finally {
      await strictPrism.stop();
      await strict.stop();
    }
  }, 90_000);

  test('When the document says something the service does not do, then Prism reports it (the check can fail)', async () => {
    const document = JSON.parse(readFileSync(DOCUMENT, 'utf8')) as {
      components: { schemas: { Price: { required?: string[] } } };
    };
    const price = document.components.schemas.Price;
    price.required = [...(price.required ?? []), 'settlementCurrency'];
    const broken = path.join(scratch, 'broken.json');
    writeFileSync(broken, JSON.stringify(document));
    const strict = await startPrism(broken, service.url);
    try {
      const result = await eventually(
        () => through(strict, '/api/v1/prices/eth-usdt'),
        (r) => r.status !== 503,
        { what: 'a price through Prism' },
      );
      expect(result.violations).toContain('settlementCurrency');
    } finally {
      await strict.stop();
    }
  }, 90_000);
});
