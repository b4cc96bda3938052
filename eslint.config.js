import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'dist-demo/', 'node_modules/', 'test-results/', 'playwright-report/', 'e2e/.output/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: { ...globals.browser, ...globals.node } } },
  {
    rules: {
      'no-console': ['error', { allow: ['warn', 'error'] }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  // Layers point one way: util ← wire ← transport ← mesh ← {sync, chord}; storage beside.
  ...[
    ['src/util/**', ['wire', 'transport', 'mesh', 'sync', 'chord', 'storage']],
    ['src/wire/**', ['transport', 'mesh', 'sync', 'chord', 'storage']],
    ['src/transport/**', ['mesh', 'sync', 'chord', 'storage']],
    ['src/mesh/**', ['sync', 'chord']],
    ['src/storage/**', ['transport', 'mesh', 'sync', 'chord']],
  ].map(([files, above]) => ({
    files: [files],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: above.map((layer) => `**/${layer}/**`), message: 'layers point one way (docs/ARCHITECTURE.md)' }] },
      ],
    },
  })),
  {
    files: ['signaling/**', 'e2e/**', 'bench/**', '.ci/**', '*.config.*'],
    rules: { 'no-console': 'off' },
  },
)
