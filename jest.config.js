// Three projects: unit specs beside the code (logic only, mocks allowed),
// integration specs against real PostgreSQL / Redis / PGlite, and end-to-end
// specs that start real processes from the built dist/ on ephemeral ports.
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
  },
  rootDir: __dirname,
  // The build output holds a copy of apps/host/package.json (the agent's npm package): one name, one module.
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
};
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/apps/**/*.spec.ts', '<rootDir>/libs/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      setupFiles: ['<rootDir>/test/jest/timeouts.js'],
      testMatch: ['<rootDir>/test/integration/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      setupFiles: ['<rootDir>/test/jest/timeouts.js'],
      testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
    },
    {
      ...common,
      displayName: 'faults',
      setupFiles: ['<rootDir>/test/jest/timeouts.js'],
      testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'],
    },
  ],
};
