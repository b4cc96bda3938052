import { machineLine as meshMachineLine } from './mesh-setup.js'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer as createNetServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser } from '@playwright/test'
import { createServer, type ViteDevServer } from 'vite'

/**
 * The sync bench's pages (bench/browser/sync.html) served by vite as the mesh bench's are (no
 * watcher, no HMR, dependencies pre-bundled up front), and a Chromium with the flags of
 * playwright.config.ts.
 */
export async function syncBenchSetup(): Promise<{ vite: ViteDevServer; url: string; browser: Browser }> {
  const vite = await createServer({
    root: new URL('./browser', import.meta.url).pathname,
    configFile: false,
    logLevel: 'error',
    cacheDir: join(tmpdir(), 'p2p-today-bench-sync-vite'),
    optimizeDeps: {
      noDiscovery: true,
      include: ['@msgpack/msgpack', '@noble/ed25519', '@noble/hashes/legacy.js', '@noble/hashes/sha2.js', 'pako', 'idb-keyval', 'simple-peer/simplepeer.min.js', 'yjs', 'y-webrtc', 'y-indexeddb'],
    },
    server: { host: '127.0.0.1', port: 0, hmr: false, watch: null },
  })
  await vite.listen()
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--allow-loopback-in-peer-connection'],
  })
  return { vite, url: `${vite.resolvedUrls!.local[0]!}sync.html`, browser }
}

/**
 * Counts every byte the page's RTCDataChannels and WebSockets send and receive, in
 * window.__wire (an init script: it runs before the page's own scripts). Kept as a string:
 * a serialised function would carry the TypeScript compiler's helpers.
 */
export const WIRE_COUNTER = `(() => {
  const w = (window.__wire = { sent: 0, received: 0, wsSent: 0, wsReceived: 0, channels: 0 })
  const encoder = new TextEncoder()
  const size = (d) => (typeof d === 'string' ? encoder.encode(d).length : d instanceof Blob ? d.size : d.byteLength || 0)
  const send = RTCDataChannel.prototype.send
  RTCDataChannel.prototype.send = function (d) {
    w.sent += size(d)
    return send.call(this, d)
  }
  const hook = (ch) => {
    w.channels++
    ch.addEventListener('message', (e) => (w.received += size(e.data)))
  }
  const PC = window.RTCPeerConnection
  window.RTCPeerConnection = class extends PC {
    constructor(...args) {
      super(...args)
      this.addEventListener('datachannel', (e) => hook(e.channel))
    }
    createDataChannel(...args) {
      const ch = super.createDataChannel(...args)
      hook(ch)
      return ch
    }
  }
  const WS = window.WebSocket
  const wsSend = WS.prototype.send
  WS.prototype.send = function (d) {
    w.wsSent += size(d)
    return wsSend.call(this, d)
  }
  window.WebSocket = class extends WS {
    constructor(...args) {
      super(...args)
      this.addEventListener('message', (e) => (w.wsReceived += size(e.data)))
    }
  }
})()`

async function freePort(): Promise<number> {
  const server = createNetServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

/**
 * y-webrtc's own signaling server (node_modules/y-webrtc/bin/server.js, unchanged) as a child
 * process on 127.0.0.1: it listens on every interface, so a preload makes its listen() bind
 * loopback only (inside the bench's namespace there is nothing else anyway).
 */
export async function startYWebrtcSignaling(): Promise<{ url: string; close: () => void }> {
  const server = new URL('../node_modules/y-webrtc/bin/server.js', import.meta.url).pathname
  const loopback = "import http from 'node:http';const l=http.Server.prototype.listen;http.Server.prototype.listen=function(port,...rest){return l.call(this,port,'127.0.0.1',...rest)}"
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(loopback)}`, server], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`y-webrtc signaling server exited (${String(code)})`)))
    child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('running') && resolve())
  })
  return { url: `ws://127.0.0.1:${port}`, close: () => void child.kill() }
}

/** The mesh benchmark's machine line (date, CPU, cores, Chromium, Node, commit), with the Yjs package versions. */
export function machineLine(chromiumVersion: string): string {
  const version = (name: string): string => (JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version
  return `${meshMachineLine(chromiumVersion)} · yjs ${version('yjs')}, y-webrtc ${version('y-webrtc')}, y-indexeddb ${version('y-indexeddb')}`
}
