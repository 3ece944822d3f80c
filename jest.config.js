// Four projects: unit specs beside the code (logic only, mocks allowed),
// integration specs against real PostgreSQL / Redis / PGlite, end-to-end specs
// that start real processes from the built dist/ on ephemeral ports, and the
// fault-injection suite. The last three find or start PostgreSQL and Redis once
// per run (test/jest/services-setup.ts).
//
// NestJS 12 packages are ESM-only. Node runs them from our CommonJS build via require(esm),
// but Jest's module runtime cannot (before Node 24.9), so Jest transpiles them to CommonJS (test/jest/esm-to-cjs.js).
// PGlite's CommonJS build still calls import() at run time, which Jest refuses outside ESM mode.
const common = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }],
    '^.+\\.c?js$': '<rootDir>/test/jest/esm-to-cjs.js',
  },
  // Every ESM file in node_modules is transformed; the transformer leaves CommonJS files untouched.
  transformIgnorePatterns: ['/node_modules/typescript/'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    '^@app/protocol$': '<rootDir>/libs/protocol/src/index.ts',
    '^@app/common$': '<rootDir>/libs/common/src/index.ts',
    '^@app/contracts$': '<rootDir>/libs/contracts/src/index.ts',
  },
  // Nest's Logger writes straight to stdout: in-process servers would fill the test output.
  setupFiles: ['<rootDir>/test/jest/quiet-nest-logger.js'],
  rootDir: __dirname,
  // The build output holds a copy of apps/host/package.json (the agent's npm package): one name, one module.
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
};
const withServices = {
  ...common,
  setupFiles: [...common.setupFiles, '<rootDir>/test/jest/timeouts.js'],
  globalSetup: '<rootDir>/test/jest/services-setup.ts',
  globalTeardown: '<rootDir>/test/jest/services-teardown.ts',
};
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/apps/**/*.spec.ts', '<rootDir>/libs/**/*.spec.ts'],
    },
    {
      ...withServices,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.spec.ts'],
    },
    {
      ...withServices,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
    },
    {
      ...withServices,
      displayName: 'faults',
      testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'],
    },
  ],
};
