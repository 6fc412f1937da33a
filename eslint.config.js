import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.stack/', 'dist/', '.bench-build/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  // The product (and the benchmarks, which measure it) takes KafkaJS's values from topology/transports/kafka/kafkajs.ts, which installs the KafkaJS
  // fast path before loading it: a static import of kafkajs anywhere in the import graph would load it first.
  {
    files: ['topology/**/*.ts', 'cli/**/*.ts', 'connectors/**/*.ts', 'serdes/**/*.ts', 'scripts/bench*.ts', 'scripts/bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'kafkajs', allowTypeImports: true, message: "Import KafkaJS's values from topology/transports/kafka/kafkajs.ts (types from 'kafkajs' are fine)." }],
          patterns: [{ group: ['kafkajs/*'], allowTypeImports: true, message: 'KafkaJS internals belong to topology/transports/kafka/kafkajs-fast-path.' }],
        },
      ],
    },
  },
  // JavaScript run by Node: the `cdc` launcher, and the package test's programs of a user.
  { files: ['bin/**/*.js'], languageOptions: { globals: { process: 'readonly' } } },
  { files: ['test/package/fixtures/**/*.mjs'], languageOptions: { globals: { console: 'readonly', setTimeout: 'readonly' } } },
);
