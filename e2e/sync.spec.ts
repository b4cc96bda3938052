import { chromium, expect, test, type Browser, type BrowserContext } from '@playwright/test'
import { uniqueSubnet } from './env.js'
import { cell, digest, everywhere, join, leaseHeldBy, network, open, ownerText, result, row, set, setOk, slow, type SyncNode } from './sync-page.js'

// The sync table (SyncSocket) in real Chromium, one node per page, driven through the demo's
// shared-table panel (demo/sync-panel.ts; e2e/sync-page.ts drives it). Eight pages over two
// browser instances; each test has its own subnet and fresh contexts (fresh IndexedDB).

const PAGES = 8
const grants = { permissions: ['camera', 'microphone'] }

let second: Browser
test.beforeAll(async () => {
  second = await chromium.launch(test.info().project.use.launchOptions)
})
test.afterAll(async () => {
  await second?.close()
})

/** One new context in each browser instance, closed at the end of the test (their pages would live on). */
async function withContexts(browser: Browser, run: (contexts: [BrowserContext, BrowserContext]) => Promise<void>): Promise<void> {
  const contexts: [BrowserContext, BrowserContext] = [await browser.newContext(grants), await second.newContext(grants)]
  try {
    await run(contexts)
  } finally {
    await Promise.all(contexts.map((c) => c.close()))
  }
}

test('a set on one page is seen on all 8 pages, with its owner', async ({ browser }, info) => {
  test.setTimeout(180_000)
  await withContexts(browser, async (contexts) => {
    const nodes = await network(contexts, uniqueSubnet(info.title), PAGES)
    const [writer] = nodes as [SyncNode]
    await setOk(writer, 'greeting', 'hello, eight pages')
    await everywhere(nodes, 'greeting', 'hello, eight pages', writer)
    for (const n of nodes) {
      await expect(n.page.getByTestId('sync-count')).toHaveText('1')
      await expect(row(n, 'greeting')).toHaveAttribute('data-owner', writer.id)
    }
  })
})

test('a leased key is refused on another page with LEASE_HELD, until its owner releases it', async ({ browser }, info) => {
  test.setTimeout(180_000)
  await withContexts(browser, async (contexts) => {
    const nodes = await network(contexts, uniqueSubnet(info.title), PAGES)
    const owner = nodes[0]!
    const other = nodes[5]! // in the other browser instance
    await setOk(owner, 'doc', 'v1')
    await everywhere(nodes, 'doc', 'v1', owner)

    // The other page's set and delete are refused: the status line says why, nothing changes.
    await set(other, 'doc', 'v2')
    await expect(result(other)).toHaveText(leaseHeldBy(owner))
    await expect(result(other)).toHaveAttribute('data-state', 'error')
    await row(other, 'doc').getByTestId('sync-row-delete').click()
    await expect(result(other)).toHaveText(leaseHeldBy(owner))
    await expect(other.page.getByTestId('sync-row-release')).toBeHidden()
    for (const n of nodes) await expect(cell(n, 'doc', 'value')).toHaveText('v1')

    // The owner gives the key up: it is free everywhere, and the other page takes it.
    await row(owner, 'doc').getByTestId('sync-row-release').click()
    await expect(result(owner)).toHaveText('release "doc": ok')
    for (const n of nodes) await expect(cell(n, 'doc', 'owner')).toHaveText('–', slow)
    await setOk(other, 'doc', 'v2')
    await everywhere(nodes, 'doc', 'v2', other)
    await set(owner, 'doc', 'v3')
    await expect(result(owner)).toHaveText(leaseHeldBy(other))
  })
})

test('a reloaded page comes back with its table from IndexedDB and still owns its leases', async ({ browser }, info) => {
  test.setTimeout(180_000)
  await withContexts(browser, async (contexts) => {
    const nodes = await network(contexts, uniqueSubnet(info.title), PAGES)
    const reloaded = nodes[2]!
    const other = nodes[3]!
    await setOk(reloaded, 'mine', 'before the reload')
    await setOk(other, 'theirs', 'set by another page')
    await everywhere(nodes, 'mine', 'before the reload', reloaded)
    await everywhere(nodes, 'theirs', 'set by another page', other)

    await reloaded.page.reload()
    await expect(reloaded.page.getByTestId('sync-state')).toHaveText('not joined')
    expect((await join(reloaded.page)).id, 'the same node id (persistent identity)').toBe(reloaded.id)
    // Both keys came back from storage (the restored count is read from the 'update' events of source 'restore').
    await expect.poll(async () => Number(await reloaded.page.getByTestId('sync-restored').textContent())).toBeGreaterThanOrEqual(2)
    await expect(cell(reloaded, 'mine', 'value')).toHaveText('before the reload')
    await expect(cell(reloaded, 'mine', 'owner')).toHaveText('me')
    await expect(cell(reloaded, 'theirs', 'owner')).toHaveText(ownerText(reloaded, other))

    // It still owns 'mine': its set goes through, and every other page still gets LEASE_HELD.
    await setOk(reloaded, 'mine', 'after the reload')
    await everywhere(nodes, 'mine', 'after the reload', reloaded)
    for (const n of [nodes[0]!, nodes[5]!]) {
      await set(n, 'mine', 'not yours')
      await expect(result(n)).toHaveText(leaseHeldBy(reloaded))
    }
    // …and it is refused on 'theirs', as before.
    await set(reloaded, 'theirs', 'not mine')
    await expect(result(reloaded)).toHaveText(leaseHeldBy(other))
  })
})

test('a write not stored yet (persistDelayMs) is stored at once when the page is hidden, and when it is left', async ({ browser }, info) => {
  test.setTimeout(120_000)
  await withContexts(browser, async ([context]) => {
    // persistDelayMs of 10 minutes: only hiding or leaving the page can store the keys in time.
    const subnet = uniqueSubnet(info.title)
    const page = await open(context, subnet, { persist: String(600_000) })
    const node = await join(page)
    /** The page's stored record of `key`, read from its IndexedDB (docs/protocol.md, Persistence). */
    const stored = (key: string): Promise<boolean> =>
      page.evaluate(
        ([database, record]) =>
          new Promise<boolean>((resolve, reject) => {
            const open = indexedDB.open(database!)
            open.onerror = () => reject(open.error)
            open.onsuccess = () => {
              const get = open.result.transaction('records').objectStore('records').get(record!)
              get.onsuccess = () => (open.result.close(), resolve(get.result !== undefined))
            }
          }),
        [`p2p-today:sync1:${subnet}`, `k:${key}`],
      )
    await setOk(node, 'hidden', 'written before the page was hidden')
    expect(await stored('hidden'), 'not stored yet: the delay holds it').toBe(false)
    // The page as a hidden tab sees it (Playwright's pages are always visible).
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' })
      document.dispatchEvent(new Event('visibilitychange'))
    })
    await expect.poll(() => stored('hidden')).toBe(true)

    await setOk(node, 'left', 'written just before the reload')
    await page.reload()
    await expect(page.getByTestId('sync-state')).toHaveText('not joined')
    expect((await join(page)).id).toBe(node.id)
    await expect.poll(async () => Number(await page.getByTestId('sync-restored').textContent())).toBe(2)
    await expect(cell(node, 'left', 'value')).toHaveText('written just before the reload')
    await expect(cell(node, 'left', 'owner')).toHaveText('me')
  })
})

test('a page cut off from the others writes, then rejoins, and every page converges', async ({ browser }, info) => {
  test.setTimeout(300_000)
  await withContexts(browser, async (contexts) => {
    const nodes = await network(contexts, uniqueSubnet(info.title), PAGES)
    const cut = nodes[3]!
    const rest = nodes.filter((n) => n !== cut)
    const [writer] = rest as [SyncNode]

    // The page closes every link it has and holds its dials back: its peers see it go.
    await cut.page.getByTestId('sync-cut').click()
    await expect(cut.page.getByTestId('sync-cut')).toHaveAttribute('data-state', 'cut')
    await expect(cut.page.getByTestId('sync-peers')).toHaveText('0')
    const peersOf = (n: SyncNode) => n.page.evaluate(() => window.syncDemo!.socket!.peers)
    for (const n of rest) await expect.poll(() => peersOf(n), slow).not.toContain(cut.id)

    // Both sides write: a key each, and the same free key. The cut page writes first.
    await setOk(cut, 'split', 'from the cut page')
    await setOk(cut, 'offline-note', 'written while cut off')
    await setOk(writer, 'split', 'from the rest')
    await setOk(writer, 'online-note', 'written while linked')
    await everywhere(rest, 'online-note', 'written while linked', writer)
    await everywhere(rest, 'split', 'from the rest', writer)
    // The cut page really heard nothing, and the rest nothing of it.
    await expect(cut.page.getByTestId('sync-peers')).toHaveText('0')
    await expect(row(cut, 'online-note')).toHaveCount(0)
    for (const n of rest) await expect(row(n, 'offline-note')).toHaveCount(0)

    // Reconnect: links form again, the tables reconcile, and every page shows the same table.
    // The page's new neighbours learn its writes when their link forms; a page further away, from
    // the periodic anti-entropy with a random peer (every 15–45 s by default): allow a few rounds.
    await cut.page.getByTestId('sync-cut').click()
    await expect(cut.page.getByTestId('sync-cut')).toHaveAttribute('data-state', 'linked')
    await expect(cut.page.getByTestId('sync-peers')).not.toHaveText('0', slow)
    const t0 = Date.now()
    await everywhere(nodes, 'offline-note', 'written while cut off', cut, { timeout: 150_000 })
    info.annotations.push({ type: 'timing', description: `after reconnecting, every page had the cut page's write in ${Date.now() - t0} ms` })
    await everywhere(nodes, 'online-note', 'written while linked', writer)
    // The earlier write of the free key holds it: the cut page's. The other writer is told.
    await everywhere(nodes, 'split', 'from the cut page', cut)
    await expect(writer.page.getByTestId('sync-conflict')).toHaveText(`"split": mine (from the rest) lost to ${cut.id.slice(0, 8)}…`)
    const digests = await Promise.all(nodes.map(digest))
    expect(new Set(digests.map((d) => d.sha256)).size).toBe(1)
    expect(digests[0]!.size).toBe(3)
  })
})

test('a newcomer receives a 10,000-key table (time from its join reported)', async ({ browser }, info) => {
  test.setTimeout(300_000)
  const KEYS = 10_000
  const BATCH = 1_000
  await withContexts(browser, async ([first, other]) => {
    const subnet = uniqueSubnet(info.title)
    const filler = await join(await open(first, subnet))
    const fillMs = await filler.page.evaluate(
      async ({ keys, batch }) => {
        const socket = window.syncDemo!.socket!
        const t0 = performance.now()
        for (let i = 0; i < keys; i += batch) {
          const values: Record<string, unknown> = {}
          for (let j = i; j < Math.min(keys, i + batch); j++) values[`item-${String(j).padStart(5, '0')}`] = { n: j, label: `item number ${j}` }
          await socket.update(values)
        }
        return performance.now() - t0
      },
      { keys: KEYS, batch: BATCH },
    )
    await expect(filler.page.getByTestId('sync-count')).toHaveText(String(KEYS))

    // The newcomer, in the other browser instance: from the click on Join to 10,000 keys, timed in the page.
    const page = await open(other, subnet)
    await page.getByTestId('sync-join').click()
    const { ms, readyMs } = await page.evaluate(
      (keys) =>
        new Promise<{ ms: number; readyMs: number }>((resolve) => {
          const demo = window.syncDemo!
          const socket = demo.socket!
          let readyMs = Number.NaN
          void socket.ready().then(() => (readyMs = performance.now() - demo.joinedAt!))
          const done = (): boolean => socket.size >= keys && (resolve({ ms: performance.now() - demo.joinedAt!, readyMs }), true)
          if (done()) return
          const off = socket.on('update', () => done() && off())
        }),
      KEYS,
    )
    const newcomer = { page, id: (await page.getByTestId('sync-id').textContent()) ?? '' }
    await expect(page.getByTestId('sync-count')).toHaveText(String(KEYS))
    await expect(page.getByTestId('sync-more')).toHaveText(`showing the first 200 of ${KEYS} keys`)
    await expect(cell(newcomer, 'item-00000', 'value')).toHaveText('{"n":0,"label":"item number 0"}')
    await expect(cell(newcomer, 'item-00000', 'owner')).toHaveText(filler.id.slice(0, 8))
    await page.evaluate(() => window.syncDemo!.socket!.synced())
    expect(await digest(newcomer)).toEqual(await digest(filler))

    const chromiumVersion = browser.version()
    info.annotations.push(
      { type: 'timing', description: `newcomer: ${KEYS} keys ${ms.toFixed(0)} ms after its join, ready (linked) at ${readyMs.toFixed(0)} ms (Chromium ${chromiumVersion}, two browser instances)` },
      { type: 'timing', description: `filler: ${KEYS} keys set with update() in batches of ${BATCH}: ${fillMs.toFixed(0)} ms` },
    )
    console.log(`sync newcomer: ${KEYS} keys in ${ms.toFixed(0)} ms from its join (ready at ${readyMs.toFixed(0)} ms); filling took ${fillMs.toFixed(0)} ms`)
  })
})

test('two pages use the shared-table panel: set, edit, a refused edit, delete (screenshots kept)', async ({ browser }, info) => {
  test.setTimeout(120_000)
  await withContexts(browser, async ([context]) => {
    const subnet = uniqueSubnet(info.title)
    const a = await join(await open(context, subnet))
    const b = await join(await open(context, subnet))
    expect(b.id).not.toBe(a.id)
    await expect(a.page.getByTestId('sync-peers')).toHaveText('1', slow)

    // A sets two keys (one a JSON value); B sees them, with A as owner and a running lease.
    await setOk(a, 'title', 'Shopping list')
    await setOk(a, 'items', '["milk","bread"]')
    await everywhere([a, b], 'title', 'Shopping list', a)
    await everywhere([a, b], 'items', '["milk","bread"]', a)
    const lease = cell(b, 'title', 'lease')
    await expect(lease).toHaveText(/^6[23] min \d\d s$/)
    const before = Number(await lease.getAttribute('data-seconds'))
    await expect.poll(async () => Number(await lease.getAttribute('data-seconds')), { timeout: 5_000 }).toBeLessThan(before)

    // B's Edit fills the inputs; its Set is refused, and says who holds the key.
    await row(b, 'title').getByTestId('sync-row-edit').click()
    await expect(b.page.getByTestId('sync-key')).toHaveValue('title')
    await expect(b.page.getByTestId('sync-value')).toHaveValue('Shopping list')
    await b.page.getByTestId('sync-value').fill('Mine now')
    await b.page.getByTestId('sync-set').click()
    await expect(result(b)).toHaveText(leaseHeldBy(a))
    await expect(cell(a, 'title', 'value')).toHaveText('Shopping list')

    // B writes a key of its own; A edits its own key; both pages agree.
    await setOk(b, 'note', 'from B')
    await row(a, 'title').getByTestId('sync-row-edit').click()
    await a.page.getByTestId('sync-value').fill('Shopping list (edited)')
    await a.page.getByTestId('sync-set').click()
    await expect(result(a)).toHaveText('set "title": ok')
    await everywhere([a, b], 'title', 'Shopping list (edited)', a)
    await everywhere([a, b], 'note', 'from B', b)
    for (const n of [a, b]) await expect(n.page.getByTestId('sync-count')).toHaveText('3')

    await a.page.getByTestId('sync-panel').screenshot({ path: 'e2e/.output/sync-a.png' })
    await b.page.getByTestId('sync-panel').screenshot({ path: 'e2e/.output/sync-b.png' })

    // A deletes its key from the row: gone on both pages.
    await row(a, 'items').getByTestId('sync-row-delete').click()
    await expect(result(a)).toHaveText('delete "items": ok')
    for (const n of [a, b]) {
      await expect(row(n, 'items')).toHaveCount(0, slow)
      await expect(n.page.getByTestId('sync-count')).toHaveText('2')
    }
  })
})
