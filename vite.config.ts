import { resolve } from 'node:path'
import { defineConfig } from 'vitest/config'

// One config for the three things vite does here:
// - `vite` / `vite preview`: the demo page (index.html + demo/),
// - `vite build`: the library (dist/), ES modules with dependencies left external,
// - `vitest`: unit tests in Node (the `test` block).
export default defineConfig({
  build: {
    target: 'es2022',
    sourcemap: true,
    lib: {
      entry: {
        'p2p-today': resolve(import.meta.dirname, 'src/index.ts'),
        wire: resolve(import.meta.dirname, 'src/wire/index.ts'),
      },
      formats: ['es'],
    },
    rollupOptions: {
      external: [/^@msgpack\//, /^@noble\//, /^pako/],
    },
  },
  test: {
    include: ['src/**/*.test.ts', 'signaling/**/*.test.ts'],
    // WebRTC in Node (@roamhq/wrtc) crashes in worker threads: keep the default `forks` pool.
    pool: 'forks',
    testTimeout: 20_000,
  },
})
