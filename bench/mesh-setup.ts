import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser } from '@playwright/test'
import { createServer, type ViteDevServer } from 'vite'

/**
 * The mesh bench pages (bench/browser/) served by vite, and a Chromium to open them in. No
 * watcher, no HMR, dependencies pre-bundled up front into a cache of our own: an edit under src/
 * or a dependency discovered late would make vite reload every open page mid-bench.
 */
export async function meshBenchSetup(): Promise<{ vite: ViteDevServer; url: string; browser: Browser }> {
  const vite = await createServer({
    root: new URL('./browser', import.meta.url).pathname,
    configFile: false,
    logLevel: 'error',
    cacheDir: join(tmpdir(), 'p2p-today-bench-mesh-vite'),
    optimizeDeps: { noDiscovery: true, include: ['@msgpack/msgpack', '@noble/ed25519', '@noble/hashes/legacy.js', '@noble/hashes/sha2.js', 'pako', 'simple-peer/simplepeer.min.js'] },
    server: { host: '127.0.0.1', port: 0, hmr: false, watch: null },
  })
  await vite.listen()
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--allow-loopback-in-peer-connection'],
  })
  return { vite, url: `${vite.resolvedUrls!.local[0]!}mesh.html`, browser }
}
