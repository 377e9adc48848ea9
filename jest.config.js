/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: [
    '<rootDir>/service/test',
    '<rootDir>/mock-exchange/test',
    '<rootDir>/monitoring/test',
    '<rootDir>/loadtest/test',
    '<rootDir>/k8s/test',
    '<rootDir>/service/bench/test',
  ].filter((dir) => require('node:fs').existsSync(dir.replace('<rootDir>', __dirname))),
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2023', parser: { syntax: 'typescript' } } }] },
  globalSetup: '<rootDir>/service/test/helpers/global-setup.ts',
  testTimeout: 30000,
  // Integration tests start real servers; running files in parallel on a 2-core box makes timings flaky.
  maxWorkers: 2,
};
