// Lint guards what the compiler cannot: promises nobody awaits or handles, promises handed where a plain
// value is expected, awaits on values that are not thenables, a promise returned un-awaited from a try
// (its rejection skips the catch and finally), throws and rejections of non-Errors, `any` (STYLE: none in
// signatures) and `export *` (every export is named, so a module's surface is read in one place).
// Type-aware, through tsconfig.json; no stylistic rules.
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'coverage/', 'node_modules/', '.cache/'] },
  {
    files: ['gateway/**/*.ts', 'cli/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'test/**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-syntax': ['error', { selector: 'ExportAllDeclaration', message: 'Name every export instead of `export *`.' }],
    },
  },
);
