/**
 * Layer rules for the service (Clean Architecture in intent):
 * domain <- application <- presentation / infrastructure <- composition root <- cluster (process roles) <- main.
 * observability (logs, metrics, traces) sits beside domain: anything above may use it, it uses nothing above.
 * Checked in `make lint`.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-is-pure',
      comment:
        'The domain knows nothing of the application, frameworks, I/O or npm packages other than decimal maths.',
      severity: 'error',
      from: { path: '^service/src/domain/' },
      to: {
        pathNot: ['^service/src/domain/', '^node_modules/big\\.js/', '^node_modules/@types/big\\.js/'],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'application-depends-on-domain-only',
      comment: 'Use cases talk to the outside through ports (application/ports.ts), never to infrastructure.',
      severity: 'error',
      from: { path: '^service/src/application/' },
      to: { path: ['^service/src/(infrastructure|presentation|cluster)/', '^service/src/composition/'] },
    },
    {
      name: 'presentation-not-infrastructure',
      comment: 'HTTP handlers get what they need from the composition root, not by importing adapters.',
      severity: 'error',
      from: { path: '^service/src/presentation/' },
      to: { path: ['^service/src/(infrastructure|cluster)/', '^service/src/composition/'] },
    },
    {
      name: 'infrastructure-not-presentation',
      severity: 'error',
      from: { path: '^service/src/infrastructure/' },
      to: { path: ['^service/src/(presentation|cluster)/', '^service/src/composition/'] },
    },
    {
      name: 'only-main-imports-cluster',
      comment:
        'cluster/ is the process roles (primary, worker, single process) and their lifecycle: the top.',
      severity: 'error',
      from: { path: '^service/src/', pathNot: ['^service/src/main\\.ts$', '^service/src/cluster/'] },
      to: { path: '^service/src/cluster/' },
    },
    {
      name: 'only-composition-constructs-infrastructure',
      comment:
        'Roles and layers get built parts from the composition root; only it (and config, for types) imports adapters.',
      severity: 'error',
      from: {
        path: '^service/src/(cluster|application|presentation|domain|observability)/|^service/src/main\\.ts$',
      },
      to: { path: '^service/src/infrastructure/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'cluster-uses-the-composition-root',
      comment:
        'A process role says which parts and shutdown steps it has; it builds them through composition/.',
      severity: 'error',
      from: { path: '^service/src/cluster/' },
      to: {
        path: '^service/src/(presentation|application|infrastructure)/',
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'observability-uses-nothing-above',
      comment: 'Logs, metrics and traces are used by every layer, so they may import none of them.',
      severity: 'error',
      from: { path: '^service/src/observability/' },
      to: { path: '^service/src/(application|presentation|infrastructure|composition|cluster|config)' },
    },
    {
      name: 'main-loads-one-role',
      comment:
        'main.ts requires the module of the role the process runs, when it runs it: a static import would load the primary (and its exchange clients) into every worker.',
      severity: 'error',
      from: { path: '^service/src/main\\.ts$' },
      to: { path: '^service/src/cluster/', dependencyTypesNot: ['require', 'type-import'] },
    },
    {
      name: 'workers-load-no-exchange-client',
      comment:
        "A cluster worker serves from the snapshots the primary sends: the exchange clients (axios, opossum, the adapters) and the refresher are the primary's, and loading them would cost every worker their memory (docs/performance.md, Memory). main.ts requires each role's module on its own.",
      severity: 'error',
      from: { path: '^service/src/cluster/worker\\.ts$' },
      to: {
        path: [
          '^node_modules/(axios|axios-retry|opossum)/',
          '^service/src/infrastructure/sources/(http-price-source\\.ts$|exchanges/)',
          '^service/src/composition/refresher\\.ts$',
        ],
        reachable: true,
      },
    },
    {
      name: 'service-and-mock-are-separate',
      comment:
        'The mock exchange is a test double run as its own process; production code must not import it.',
      severity: 'error',
      from: { path: '^service/src/' },
      to: { path: '^mock-exchange/' },
    },
    {
      name: 'mock-does-not-import-service',
      severity: 'error',
      from: { path: '^mock-exchange/src/' },
      to: { path: '^service/' },
    },
    {
      name: 'not-to-dev-dep',
      severity: 'error',
      from: { path: '^(service|mock-exchange)/src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '(^dist/|/test/)' },
  },
};
