import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'apps/registry/src/database/generated/**',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/libs/protocol/**', '@app/protocol/*'],
              message: 'Import the protocol library from its root: @app/protocol',
            },
            {
              group: ['**/libs/common/**', '@app/common/*'],
              message: 'Import the common library from its root: @app/common',
            },
            {
              group: ['**/libs/contracts/**', '@app/contracts/*'],
              message: 'Import the contracts library from its root: @app/contracts',
            },
          ],
        },
      ],
    },
  },
);
