import { execFileSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser } from '@playwright/test'
import { createServer, type ViteDevServer } from 'vite'

/**
 * The bench pages (bench/browser/) served by vite, and a Chromium to open them in (`url`: `page`,
 * default the mesh bench's). No
 * watcher, no HMR, dependencies pre-bundled up front into a cache of our own: an edit under src/
 * or a dependency discovered late would make vite reload every open page mid-bench.
 */
export async function meshBenchSetup(page = 'mesh.html'): Promise<{ vite: ViteDevServer; url: string; browser: Browser }> {
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
  return { vite, url: `${vite.resolvedUrls!.local[0]!}${page}`, browser }
}

/** The line a recorded result starts with: date, CPU, cores, Chromium, Node, commit (and whether src/ had changes). */
export function machineLine(chromium: string): string {
  const cpu = /Model name:\s*(.+)/.exec(execFileSync('lscpu', { encoding: 'utf8' }))?.[1] ?? '?'
  const cores = execFileSync('nproc', { encoding: 'utf8' }).trim()
  const git = (...args: string[]): string => {
    try {
      return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    } catch {
      return '?'
    }
  }
  const dirty = git('status', '--porcelain', 'src', 'signaling') === '' ? '' : ' + uncommitted src/ changes'
  return `${new Date().toISOString().slice(0, 10)} · ${cpu} (${cores} cores) · headless Chromium ${chromium} · Node ${process.version} · ${git('rev-parse', '--short', 'HEAD')}${dirty}`
}
