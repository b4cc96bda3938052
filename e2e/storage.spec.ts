import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from '@playwright/test'
import { createServer, type ViteDevServer } from 'vite'
import type { StorageTimings } from '../src/testing/storage-bench.js'
import { applicableCases } from '../src/testing/storage-cases.js'
import type { StorageContractPage } from './storage/page.js'

// The StorageAdapter contract on Chromium's real IndexedDB: the cases vitest runs on
// fake-indexeddb (src/testing/storage-cases.ts), one test each, in a page vite serves from
// e2e/storage/ (the library's source, as the bench pages do). Then the timings, as annotations.
let vite: ViteDevServer
let url: string

test.beforeAll(async () => {
  vite = await createServer({
    root: new URL('./storage', import.meta.url).pathname,
    configFile: false,
    logLevel: 'error',
    cacheDir: join(tmpdir(), 'p2p-today-e2e-storage-vite'),
    // Dependencies bundled up front: one discovered late would make vite reload the page mid-test.
    optimizeDeps: { noDiscovery: true, include: ['idb-keyval'] },
    server: { host: '127.0.0.1', port: 0, hmr: false, watch: null },
  })
  await vite.listen()
  url = `${vite.resolvedUrls!.local[0]!}index.html`
})

test.afterAll(async () => {
  await vite?.close()
})

test.beforeEach(async ({ page }) => {
  page.on('pageerror', (err) => console.error(`[page] ${err.message}`))
  await page.goto(url)
  await expect(page.getByTestId('state')).toHaveText('ready')
})

const run = (name: string): Promise<string | undefined> =>
  (window as unknown as { storageContract: StorageContractPage }).storageContract.run(name)

test('the page declares the same cases as the vitest suite', async ({ page }) => {
  const cases = await page.evaluate(() => (window as unknown as { storageContract: StorageContractPage }).storageContract.cases())
  expect(cases).toEqual(applicableCases({ namespaces: true, persistent: true }))
})

for (const name of applicableCases({ namespaces: true, persistent: true })) {
  test(`contract: ${name}`, async ({ page }) => {
    expect(await page.evaluate(run, name)).toBeUndefined()
  })
}

test('timings: 10,000 records and 1,000 keys (reported, not asserted)', async ({ page }, info) => {
  test.setTimeout(300_000)
  const t: StorageTimings = await page.evaluate(() => (window as unknown as { storageContract: StorageContractPage }).storageContract.time())
  const ms = (x: number): string => `${x.toFixed(1)} ms`
  const lines = [
    `writeBatch ${t.bulk} records in one batch: relaxed ${ms(t.writeBulk.relaxed)}, strict ${ms(t.writeBulk.strict)}`,
    `loadAll ${t.bulk} records: ${ms(t.loadBulk)}`,
    `${t.keys} keys in one batch: relaxed ${ms(t.perKey.oneBatch.relaxed)}, strict ${ms(t.perKey.oneBatch.strict)}`,
    `${t.keys} keys, one transaction each, awaited in turn: relaxed ${ms(t.perKey.sequential.relaxed)}, strict ${ms(t.perKey.sequential.strict)}`,
    `${t.keys} keys, one transaction each, issued at once (relaxed): ${ms(t.perKey.concurrent)}`,
  ]
  for (const line of lines) info.annotations.push({ type: 'timing', description: `${line} (median of ${t.rounds})` })
  console.log(`IndexedDB in Chromium ${page.context().browser()?.version() ?? '?'}, median of ${t.rounds}:\n  ${lines.join('\n  ')}`)
  expect(t.bulk).toBe(10_000)
})
