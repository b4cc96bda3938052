import { resolve } from 'node:path'
import process from 'node:process'
import { createServer, type ViteDevServer } from 'vite'
import { startSignalingServer, type SignalingServer } from './server.js'

/**
 * `npm start`: the whole demo on one machine. Starts our signaling server (port 9000, or a free
 * port if 9000 is taken), then vite's dev server for the demo page with VITE_P2P_SIGNALING set
 * to the signaling URL, prints both URLs, and closes both on SIGINT/SIGTERM.
 */

const root = resolve(import.meta.dirname, '..')
const PREFERRED_PORT = 9000

function isAddressInUse(err: unknown): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === 'EADDRINUSE'
}

async function startSignaling(): Promise<SignalingServer> {
  const log = (message: string, detail?: unknown): void => {
    if (isAddressInUse(detail)) return // handled below
    console.error(`signal: ${message}`, detail ?? '')
  }
  try {
    return await startSignalingServer({ port: PREFERRED_PORT }, { log })
  } catch (err: unknown) {
    if (!isAddressInUse(err)) throw err
    console.warn(`signal: port ${PREFERRED_PORT} is taken, using a free port`)
    return startSignalingServer({ port: 0 }, { log })
  }
}

/**
 * Vite's dev server installs its own SIGTERM (and stdin end) handler that exits the process as
 * soon as vite alone has closed; this script closes both servers itself, so it takes those off.
 */
async function startVite(): Promise<ViteDevServer> {
  const term = new Set(process.listeners('SIGTERM'))
  const stdinEnd = new Set(process.stdin.listeners('end'))
  const vite = await createServer({ root, configFile: resolve(root, 'vite.config.ts'), server: { host: '127.0.0.1' } })
  for (const l of process.listeners('SIGTERM')) if (!term.has(l)) process.off('SIGTERM', l)
  for (const l of process.stdin.listeners('end')) if (!stdinEnd.has(l)) process.stdin.off('end', l as () => void)
  await vite.listen()
  return vite
}

async function main(): Promise<number> {
  let signaling: SignalingServer
  try {
    signaling = await startSignaling()
  } catch (err: unknown) {
    console.error(`signal: cannot start: ${err instanceof Error ? err.message : String(err)}`)
    return 1
  }
  // Read by the demo (demo/config.ts) as import.meta.env.VITE_P2P_SIGNALING.
  process.env.VITE_P2P_SIGNALING = signaling.url
  let vite: ViteDevServer
  try {
    vite = await startVite()
  } catch (err: unknown) {
    console.error(`demo: cannot start vite: ${err instanceof Error ? err.message : String(err)}`)
    await signaling.close()
    return 1
  }
  const page = vite.resolvedUrls?.local[0] ?? `http://127.0.0.1:${vite.config.server.port}/`
  console.log(`signaling server  ${signaling.url}`)
  console.log(`demo page         ${page}`)
  console.log('Open the page in two tabs and press Join in both. Ctrl-C stops.')

  await new Promise<void>((done) => {
    process.once('SIGINT', done)
    process.once('SIGTERM', done)
  })
  await Promise.allSettled([vite.close(), signaling.close()])
  return 0
}

process.exitCode = await main()
