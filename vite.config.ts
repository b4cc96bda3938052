import { resolve } from 'node:path'
import { defineConfig } from 'vitest/config'

const here = import.meta.dirname

// One config for what vite does here:
// - `vite` (dev) and `vite build --mode demo` / `vite preview --mode demo`: the demo page
//   (index.html + demo/), which imports the library only as 'p2p-today' (aliased to src/),
// - `vite build`: the library itself (dist/), ES modules with dependencies left external,
// - `vite build --mode signaling`: the signaling server (dist/signaling/),
// - `vitest`: unit tests in Node (the `test` block).
export default defineConfig(({ command, mode }) => {
  if (mode === 'signaling') {
    // `vite build --mode signaling`: the signaling server for Node (package bin and the
    // 'p2p-today/signaling' entry), dependencies left to node_modules.
    return {
      build: {
        ssr: true,
        target: 'node20',
        outDir: 'dist/signaling',
        emptyOutDir: true,
        sourcemap: true,
        rollupOptions: {
          input: { cli: resolve(here, 'signaling/cli.ts'), index: resolve(here, 'signaling/server.ts') },
          output: { format: 'es', entryFileNames: '[name].js', banner: (chunk) => (chunk.name === 'cli' ? '#!/usr/bin/env node' : '') },
        },
      },
    }
  }
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
