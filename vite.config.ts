import { resolve } from 'node:path'
import { defineConfig } from 'vitest/config'

const here = import.meta.dirname

// One config for what vite does here:
// - `vite` (dev) and `vite build --mode demo` / `vite preview --mode demo`: the demo page
//   (index.html + demo/), which imports the library only as 'p2p-today' (aliased to src/),
// - `vite build`: the library itself (dist/), ES modules with dependencies left external,
// - `vitest`: unit tests in Node (the `test` block).
export default defineConfig(({ command, mode }) => {
  const library = command === 'build' && mode !== 'demo'
  return {
    resolve: { alias: { 'p2p-today': resolve(here, 'src/index.ts') } },
    build: library
      ? {
          target: 'es2022',
          sourcemap: true,
          lib: {
            entry: { 'p2p-today': resolve(here, 'src/index.ts'), wire: resolve(here, 'src/wire/index.ts') },
            formats: ['es'],
          },
          rollupOptions: { external: [/^@msgpack\//, /^@noble\//, /^pako/, /^simple-peer/, /^idb-keyval/] },
        }
      : { target: 'es2022', outDir: 'dist-demo', sourcemap: true },
    preview: { host: '127.0.0.1' },
    server: { host: '127.0.0.1' },
    test: {
      include: ['src/**/*.test.ts', 'signaling/**/*.test.ts'],
      // WebRTC in Node (@roamhq/wrtc) crashes in worker threads: keep the default `forks` pool.
      pool: 'forks',
      testTimeout: 20_000,
    },
  }
})
