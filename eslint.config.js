import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

/** What a network model (mesh, sync, chord) must not import: the platform's services are injected. */
/** (The storage seam's interface, storage/adapter.ts, is theirs to import.) */
const INJECTED = ['**/transport/webrtc/**', '**/transport/webrtc-network*', '**/transport/signaling/**', '**/storage/**', '!**/storage/adapter*', '**/platform*']

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
  // Layers point one way: util ← wire ← transport ← mesh ← {sync, chord}; storage beside. The
  // network models see the network and storage only through interfaces: the package entry
  // (src/platform.ts) injects WebRTC, signaling and IndexedDB.
  ...[
    ['src/util/**', ['wire', 'transport', 'mesh', 'sync', 'chord', 'storage'], []],
    ['src/wire/**', ['transport', 'mesh', 'sync', 'chord', 'storage'], []],
    ['src/transport/**', ['mesh', 'sync', 'chord', 'storage'], []],
    ['src/mesh/**', ['sync', 'chord'], INJECTED],
    ['src/sync/**', ['chord'], INJECTED],
    ['src/chord/**', [], INJECTED], // chord may use sync's storage and clock
    ['src/storage/**', ['transport', 'mesh', 'sync', 'chord'], []],
  ].map(([files, above, injected]) => ({
    files: [files],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...(above.length === 0 ? [] : [{ group: above.map((layer) => `**/${layer}/**`), message: 'layers point one way (docs/ARCHITECTURE.md)' }]),
            ...(injected.length === 0 ? [] : [{ group: injected, message: 'network models get the network and storage injected (src/platform.ts), never import them' }]),
          ],
        },
      ],
    },
  })),
  {
    files: ['signaling/**', 'e2e/**', 'bench/**', '.ci/**', '*.config.*'],
    rules: { 'no-console': 'off' },
  },
)
