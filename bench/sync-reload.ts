import type { Page } from '@playwright/test'
import { startSignalingServer } from '../signaling/server.js'
import type { Boot } from './browser/sync-page.js'
import { machineLine, syncBenchSetup } from './sync-setup.js'

// Reload of a 10,000-key table, alone, on an otherwise idle machine: one page fills the table
// (update() in batches of 1,000, then close(), which compacts the stored table), then reloads
// five times; each load times construction → all keys held, and → ready() (restored, and alone
// on the signaling server). bench:sync times the same inside its 16-page run, under load.
// Run: npm run bench:sync:reload   (inside the loopback-only namespace: node e2e/isolate.mjs …)

const KEYS = 10_000
const RELOADS = 5
const server = await startSignalingServer({ port: 0 })
const { vite, url, browser } = await syncBenchSetup()

const call = (page: Page, name: string, ...args: unknown[]): Promise<unknown> => page.evaluate(`window.bench[${JSON.stringify(name)}](...${JSON.stringify(args)})`)
const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

try {
  const rows: string[] = []
  for (const security of ['signed', 'unsigned'] as const) {
    const context = await browser.newContext({ permissions: ['camera', 'microphone'] })
    const page = await context.newPage()
    page.on('pageerror', (err) => console.error(`[${security}] ${err.message}`))
    await page.goto(url)
    await page.getByTestId('state').filter({ hasText: 'ready' }).waitFor()
    const config = { lib: 'ours', signaling: server.url, subnet: `reload-${security}-${Date.now()}`, security, memory: false }
    await call(page, 'join', config)
    for (let i = 0; i < KEYS; i += 1_000) await call(page, 'fill', i, i + 1_000, 0)
    await call(page, 'close')
    const boots: Boot[] = []
    for (let r = 0; r < RELOADS; r++) {
      await page.goto(`${url}?auto=${encodeURIComponent(JSON.stringify({ config, keys: KEYS }))}`)
      await page.getByTestId('state').filter({ hasText: 'ready' }).waitFor()
      const boot = (await call(page, 'boot')) as Boot
      if (boot.sizeAtReady !== KEYS) throw new Error(`[${security}] ${boot.sizeAtReady} keys at ready(), not ${KEYS}`)
      boots.push(boot)
      await call(page, 'close')
    }
    const show = (xs: number[]): string => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`
    rows.push(`| ${security} | ${show(boots.map((b) => b.keysMs))} | ${show(boots.map((b) => b.readyMs))} |`)
    await context.close()
  }
  console.log(`${machineLine(browser.version())}\n`)
  console.log(`| ${KEYS.toLocaleString('en')} keys, reloaded alone, ${RELOADS} times | construction → all keys (ms), median (min–max) | construction → ready() (ms) |`)
  console.log('|---|---|---|')
  for (const row of rows) console.log(row)
} finally {
  await browser.close()
  await vite.close()
  await server.close()
}
