/**
 * Layer rules for the service (Clean Architecture in intent):
 * domain <- application <- presentation / infrastructure <- composition root.
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
