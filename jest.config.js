// Three kinds of tests (see docs/TESTING.md):
//   unit – pure rules, schemas, keys, HTTP mapping; no engines.
//   int  – the real DynamoDB Local engine (one per run, one table per test file) and the local gateway.
//   infra – the CDK app synthesized offline: assertions, least privilege, cdk-nag, bundles.
const { availableParallelism } = require('node:os');

const transform = {
  '^.+\\.(t|j|mj)s$': [
    '@swc/jest',
    { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
  ],
};
// @middy/*, jose and the proxy agents ship ESM only: let swc turn them into CommonJS like our own sources.
const transformIgnorePatterns = [
  '/node_modules/(?!(@middy|jose|http-proxy-agent|https-proxy-agent|agent-base|proxy-agent-negotiate)/)',
];
const common = { transform, transformIgnorePatterns, testEnvironment: 'node', setupFiles: ['<rootDir>/test/helpers/env.ts'] };

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'int',
      testMatch: ['<rootDir>/test/int/**/*.int.test.ts'],
      globalSetup: '<rootDir>/test/helpers/global-setup.ts',
      globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
    },
    { ...common, displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
  ],
  testTimeout: 30000,
  // Jest's default is one worker fewer than the cores: on a 2-core CI machine that is one, and the
  // int files, which spend much of their time waiting (tokens that must expire, processes that must
  // be killed, a browser), ran one after another. Every int file has its own table and ports.
  maxWorkers: Math.max(2, availableParallelism() - 1),
};
