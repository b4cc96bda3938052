import type { Browser, BrowserContext, Page } from '@playwright/test'
import { startSignalingServer } from '../signaling/server.js'
import { Prng } from '../src/testing/prng.js'
import { keyOf, valueOf, type Want } from './browser/sync-data.js'
import type { Config, SyncBench } from './browser/sync-page.js'
import type { Wire } from './browser/sync-replica.js'
import { report, type Suite, type SuiteResult } from './sync-report.js'
import { machineLine, startYWebrtcSignaling, syncBenchSetup, WIRE_COUNTER } from './sync-setup.js'

// Our sync table (SyncSocket) vs Yjs (Y.Map over y-webrtc + y-indexeddb) in headless Chromium,
// side by side in one run: the same 16 pages (one browser context each: their own IndexedDB, no
// BroadcastChannel between them), the same keys and values, the same operations. Per suite: 15
// pages get 10,000 keys; newcomers join (the last stays, page 16); the pages split into two
// halves that each change 50 keys, then heal; single sets; a burst of 500; pages reload alone.
// Run: npm run bench:sync   (inside the loopback-only namespace: node e2e/isolate.mjs …)
// Options: --only ours-signed,yjs (suites to run, in that order), --keys N (fewer keys, for a quick try), --debug
// (per-round log), and two diagnostics for ours: --mesh-signals (the heal's signals through the
// mesh, as the library does by itself) and --memory (tables in memory, not in IndexedDB).

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? undefined : process.argv[i + 1]
}
const DEBUG = process.argv.includes('--debug')
/** Ours: leave the heal's signals to the mesh (it has no route across: the connects time out). */
const MESH_SIGNALS = process.argv.includes('--mesh-signals')
/** Ours: tables in memory, not IndexedDB (a diagnostic). */
const MEMORY = process.argv.includes('--memory')
const PAGES = 16
const HALF = PAGES / 2
const KEYS = Number(arg('keys') ?? 10_000)
const FILL_BATCH = Math.min(1_000, KEYS / 10)
const BURST = 500
const CHANGES = KEYS / 200 // per half: 1% of the keys in all
const NEWCOMERS = 3
const RELOADS = [3, 11, 6]
const SETS = 60
const WARMUP = 5
const SEED = 11
/** The largest message Chromium's data channels send (its SCTP maxMessageSize). */
const CHROMIUM_MAX_MESSAGE = 256 * 1024
const SUITES: Suite[] = [
  { name: 'ours-signed', lib: 'ours', security: 'signed' },
  { name: 'ours-unsigned', lib: 'ours', security: 'unsigned' },
  { name: 'yjs', lib: 'yjs' },
]

/** The connected parts of the graph over `members` whose edges `linked` gives (pages by index). */
function components(members: number[], linked: (i: number) => number[]): number[][] {
  const left = new Set(members)
  const parts: number[][] = []
  for (const start of members) {
    if (!left.delete(start)) continue
    const part = [start]
    for (let k = 0; k < part.length; k++) for (const j of linked(part[k]!)) if (left.delete(j)) part.push(j)
    parts.push(part.sort((a, b) => a - b))
  }
  return parts
}

function unknownSuite(name: string): never {
  throw new Error(`--only: no suite ${name} (${SUITES.map((s) => s.name).join(', ')})`)
}

/** Calls window.bench[name](...args) in `page`; a step that hangs fails the suite after 5 minutes. */
async function run<K extends keyof SyncBench>(page: Page, name: K, ...args: Parameters<SyncBench[K]>): Promise<Awaited<ReturnType<SyncBench[K]>>> {
  const call = ({ name, args }: { name: string; args: unknown[] }): unknown =>
    (window as unknown as { bench: Record<string, (...a: unknown[]) => unknown> }).bench[name]!(...args)
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`bench step ${name} hung`)), 300_000)))
  try {
    return (await Promise.race([page.evaluate(call, { name, args: args as unknown[] }), hung])) as Awaited<ReturnType<SyncBench[K]>>
  } finally {
    clearTimeout(timer)
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const range = (from: number, to: number, step = 1): number[] => Array.from({ length: Math.ceil((to - from) / step) }, (_, i) => from + i * step)
const sum = (xs: number[]): number => xs.reduce((s, x) => s + x, 0)

/** Polls `ok` every 200 ms until it holds; throws `what` after `ms`. */
async function until(what: string, ok: () => Promise<boolean>, ms = 90_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`)
    await sleep(200)
  }
}

/** Ours: the mesh's and the table's counters that tell of trouble, summed over the pages. */
async function statsOf(nodes: Node[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const n of nodes) {
    for (const [k, v] of Object.entries(await run(n.page, 'stats'))) {
      if (['rateLimited', 'forged', 'stale', 'badFrames', 'dialFailures', 'refused', 'oversize', 'reconciliations', 'entriesReceived', 'entriesSent', 'reconcileBytes', 'bytesIn', 'messagesIn', 'messagesOut', 'bytesOut'].includes(k) && v > 0) out[k] = (out[k] ?? 0) + v
    }
  }
  return out
}

interface Node {
  context: BrowserContext
  page: Page
}

const ourSignaling = await startSignalingServer({ port: 0 })
const lonely = await startSignalingServer({ port: 0 })
const ySignaling = [await startYWebrtcSignaling(), await startYWebrtcSignaling()] as const
const { vite, url, browser } = await syncBenchSetup()

async function open(role: string): Promise<Node> {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] })
  await context.addInitScript({ content: WIRE_COUNTER })
  const page = await context.newPage()
  page.on('pageerror', (err) => console.error(`[${role}] ${err.message}`))
  page.on('console', (msg) => void (msg.type() === 'error' && console.error(`[${role}] ${msg.text()}`)))
  await page.goto(url)
  await page.getByTestId('state').filter({ hasText: 'ready' }).waitFor()
  return { context, page }
}

async function runSuite(browser: Browser, suite: Suite): Promise<SuiteResult> {
  const tag = `${suite.name}-${Date.now()}`
  // 'alone': a signaling server nobody else of the subnet/room is on.
  const config = (where: 'main' | 'alone' = 'main'): Config =>
    suite.lib === 'ours'
      ? { lib: 'ours', signaling: (where === 'main' ? ourSignaling : lonely).url, subnet: tag, security: suite.security ?? 'signed', memory: MEMORY }
      : { lib: 'yjs', signaling: ySignaling[where === 'main' ? 0 : 1].url, room: tag }
  const r: SuiteResult = { suite, newcomers: [], reloads: [], setMs: [], errors: {} }
  const nodes: Node[] = []
  const log = (what: string): void => console.error(`[${suite.name}] ${what}`)
  const all: Want = { n: KEYS, changed: [] }
  const wires = (): Promise<Wire[]> => Promise.all(nodes.map((n) => run(n.page, 'wire')))
  const received = (ws: Wire[]): number => sum(ws.map((w) => w.received))
  let step = 'fill'
  /** Keys the step waits for (their count held is logged when a step hangs, --debug). */
  let awaited: { want: Want; only: number[] } | undefined
  try {
    // 1. Fifteen pages. Keys 0…4999 are written by page 0 and 5000…9999 by page 8 (the writer
    // owns them: our leases), each alone (page 8 on a signaling server of its own, then it closes
    // and joins the others, its table restored from IndexedDB); then the other pages join one by
    // one, each until it holds the 10,000 keys. (Flooding 10,000 single writes to 15 pages takes
    // minutes with ours; measure 5 times a burst instead.)
    for (let i = 0; i < PAGES - 1; i++) nodes.push(await open(`${suite.name} ${i}`))
    const fill0 = Date.now()
    const [first, second] = [nodes[0]!.page, nodes[HALF]!.page]
    await run(first, 'join', config())
    await run(second, 'join', config('alone'))
    for (let from = 0; from < KEYS / 2; from += FILL_BATCH) {
      await Promise.all([run(first, 'fill', from, from + FILL_BATCH, 0), run(second, 'fill', KEYS / 2 + from, KEYS / 2 + from + FILL_BATCH, 0)])
    }
    await run(second, 'close')
    await run(second, 'join', config(), all)
    await run(first, 'waitFor', all)
    if (suite.lib === 'yjs') {
      // y-webrtc answers a new peer with the whole document in one data-channel message, and
      // Chromium sends none over 256 KiB (its SCTP limit): a newcomer would wait forever.
      const state = await run(first, 'yjsStateBytes')
      if (state > CHROMIUM_MAX_MESSAGE) throw new Error(`y-webrtc cannot bring a newcomer this document: its state is ${(state / 1024).toFixed(0)} KiB, sent in one data-channel message, over Chromium's 256 KiB limit (yjs/y-webrtc#20, #61)`)
    }
    for (const [i, n] of nodes.entries()) {
      if (i === 0 || i === HALF) continue
      const t = Date.now()
      await run(n.page, 'join', config(), all)
      if (DEBUG) log(`page ${i} joined in ${Date.now() - t} ms`)
    }
    const linked = suite.lib === 'yjs' ? PAGES - 2 : 1
    await until('every page linked', async () => (await Promise.all(nodes.map((n) => run(n.page, 'peers')))).every((p) => p.length >= linked))
    r.fillMs = Date.now() - fill0
    log(`15 pages hold ${KEYS} keys after ${r.fillMs} ms`)

    step = 'newcomers'
    // 2. Newcomers: a fresh page (fresh IndexedDB) joins and receives the table; the last stays.
    for (let j = 0; j < NEWCOMERS; j++) {
      await sleep(3_000) // the network settles after the previous newcomer
      const n = await open(`${suite.name} newcomer ${j}`)
      const joined = await run(n.page, 'join', config(), all)
      await sleep(3_000)
      const later = await run(n.page, 'wire')
      r.newcomers.push({ keysMs: joined.keysAt - joined.t0, readyMs: joined.readyAt - joined.t0, atKeys: joined.wire, after3s: later, peers: (await run(n.page, 'peers')).length })
      log(`newcomer ${j}: ${(joined.keysAt - joined.t0).toFixed(0)} ms, ${(joined.wire.received / 1000).toFixed(1)} KB${DEBUG ? ` ${JSON.stringify(await statsOf([n]))}` : ''}`)
      if (j < NEWCOMERS - 1) {
        await run(n.page, 'close')
        await n.context.close()
      } else nodes.push(n)
    }

    step = 'split'
    // 3. Partition: halves 0–7 and 8–15; each changes 50 keys its writer owns; then heal.
    const ids = await Promise.all(nodes.map((n) => run(n.page, 'id')))
    const half = (i: number): number => (i < HALF ? 0 : 1)
    r.peersBefore = (await Promise.all(nodes.map((n) => run(n.page, 'peers')))).map((p) => p.length)
    const idle0 = received(await wires())
    await sleep(5_000)
    r.idleBytesPerS = (received(await wires()) - idle0) / 5
    if (suite.lib === 'ours') await Promise.all(nodes.map((n, i) => run(n.page, 'block', ids.filter((_, j) => half(j) !== half(i)))))
    else await Promise.all(nodes.slice(HALF).map((n) => run(n.page, 'moveTo', ySignaling[1].url)))
    const sides = async (): Promise<boolean> => {
      const peers = await Promise.all(nodes.map((n) => run(n.page, 'peers')))
      return peers.every((p, i) => p.length > 0 && p.every((id) => half(ids.indexOf(id)) === half(i)))
    }
    await until('the halves split', sides)
    // Each half must be one mesh before its changes are made: a half cut in two joins again by
    // the mesh's reach checks (about one a minute per part), so this waits up to 3 minutes and
    // then names the parts.
    const halves = async (): Promise<number[][][]> => {
      const peers = await Promise.all(nodes.map((n) => run(n.page, 'peers')))
      return [0, 1].map((h) => components(nodes.map((_, i) => i).filter((i) => half(i) === h), (i) => peers[i]!.map((id) => ids.indexOf(id))))
    }
    await until('each half one mesh', async () => (await halves()).every((parts) => parts.length === 1), 180_000).catch(async () => {
      throw new Error(`a half is cut in parts (pages): ${JSON.stringify(await halves())}`)
    })
    const changes: [number[], number[]] = [range(0, KEYS / 2, KEYS / 2 / CHANGES), range(KEYS / 2, KEYS, KEYS / 2 / CHANGES)]
    const own = (i: number): number[] => changes[half(i)]!
    const other = (i: number): number[] => changes[1 - half(i)]!
    const split0 = Date.now()
    await Promise.all([run(nodes[0]!.page, 'change', changes[0], 1), run(nodes[HALF]!.page, 'change', changes[1], 1)])
    step = 'changes while split'
    awaited = { want: { n: KEYS, changed: [...changes[0], ...changes[1]] }, only: [...changes[0], ...changes[1]] }
    await Promise.all(nodes.map((n, i) => run(n.page, 'waitFor', { n: KEYS, changed: own(i) }, own(i))))
    r.splitMs = Date.now() - split0
    const leaked = await Promise.all(nodes.map((n, i) => run(n.page, 'matching', { n: KEYS, changed: other(i) }, other(i))))
    if (!(await sides()) || sum(leaked) > 0) throw new Error('the partition leaked')
    const healed: Want = { n: KEYS, changed: [...changes[0], ...changes[1]] }
    step = 'heal'
    awaited = { want: healed, only: healed.changed }
    const before = await wires()
    const statsBefore = DEBUG ? await statsOf(nodes) : {}
    const t0 = await run(nodes[0]!.page, 'now')
    let connecting: Promise<void> | undefined
    if (suite.lib === 'ours') {
      await Promise.all(nodes.map((n, i) => run(n.page, 'unblock').then(() => (MESH_SIGNALS ? undefined : run(n.page, 'viaServer', ids.filter((_, j) => half(j) !== half(i)))))))
      // Each page of one half links to its counterpart in the other at once (the reach checks would, within a period).
      connecting = Promise.all(nodes.slice(0, HALF).map((n, i) => run(n.page, 'connect', ids[HALF + i]!))).then((codes) => void (r.healConnects = codes))
    } else await Promise.all(nodes.slice(HALF).map((n) => run(n.page, 'moveTo', ySignaling[0].url)))
    const done = await Promise.all(nodes.map((n) => run(n.page, 'waitFor', healed, healed.changed)))
    const atConverged = await wires()
    await sleep(3_000)
    const after3s = await wires()
    r.heal = {
      ms: Math.max(...done.map((d) => d.at)) - t0,
      perPageMs: done.map((d) => d.at - t0),
      bytes: received(atConverged) - received(before),
      bytesAfter3s: received(after3s) - received(before),
      sent: sum(atConverged.map((w) => w.sent)) - sum(before.map((w) => w.sent)),
      background: (r.idleBytesPerS * (Math.max(...done.map((d) => d.at)) - t0)) / 1000,
    }
    await connecting
    if (DEBUG) log(`heal stats: ${JSON.stringify(statsBefore)} → ${JSON.stringify(await statsOf(nodes))}; connects: ${JSON.stringify(r.healConnects)}`)
    log(`healed in ${r.heal.ms.toFixed(0)} ms, ${(r.heal.bytes / 1000).toFixed(1)} KB`)

    step = 'sets'
    awaited = undefined
    // 4. Single sets of new keys from random pages; each timed to the last page that sees it.
    const rng = new Prng(SEED)
    for (let s = 0; s < WARMUP + SETS; s++) {
      const from = rng.int(PAGES)
      const [key, value] = [keyOf(KEYS + s), valueOf(KEYS + s, 0)]
      const t = await run(nodes[from]!.page, 'setTimed', key, value)
      const seen = await Promise.all(nodes.map((n, i) => (i === from ? Promise.resolve(t) : run(n.page, 'arrival', key, value))))
      if (s >= WARMUP) r.setMs.push(Math.max(...seen) - t)
    }
    log(`sets: ${r.setMs.length}`)

    // 5. A burst: page 0 writes 500 new keys at once (ours: update(); Yjs: one transaction).
    const burst = range(KEYS + WARMUP + SETS, KEYS + WARMUP + SETS + BURST)
    const burstWant: Want = { n: burst[burst.length - 1]! + 1, changed: [] }
    const b0 = await run(nodes[0]!.page, 'now')
    await run(nodes[0]!.page, 'fill', burst[0]!, burst[0]! + BURST, 0)
    const landed = await Promise.all(nodes.map((n) => run(n.page, 'waitFor', burstWant, burst)))
    r.burstMs = Math.max(...landed.map((l) => l.at)) - b0
    log(`burst: ${r.burstMs.toFixed(0)} ms${DEBUG ? ` ${JSON.stringify(await statsOf(nodes))}` : ''}`)

    // 6. Reloads: the page loads again, alone (its own signaling server, nobody else there: no
    // peer can send it anything), and restores the table from IndexedDB.
    for (const i of RELOADS) {
      const n = nodes[i]!
      await n.page.goto(`${url}?auto=${encodeURIComponent(JSON.stringify({ config: config('alone'), keys: KEYS + WARMUP + SETS + BURST }))}`)
      await n.page.getByTestId('state').filter({ hasText: 'ready' }).waitFor()
      r.reloads.push(await run(n.page, 'boot'))
      await run(n.page, 'close') // the next reloaded page is alone too
    }
    log(`reloads: ${JSON.stringify(r.reloads)}`)
  } catch (err: unknown) {
    r.failed = `${err instanceof Error ? err.message : String(err)} (at: ${step})`
    if (DEBUG) {
      // What each page holds and does when a step hangs: its links and counters.
      for (const [i, n] of nodes.entries()) {
        const held = awaited === undefined ? '' : ` holds ${await run(n.page, 'matching', awaited.want, awaited.only).catch(() => '?')} of ${awaited.only.length};`
        log(`page ${i}:${held} peers ${JSON.stringify(await run(n.page, 'peers').catch(() => '?'))} ${JSON.stringify(await run(n.page, 'stats').catch(() => '?'))}`)
      }
    }
    log(`FAILED: ${r.failed}`)
  }
  for (const n of nodes) for (const [code, k] of Object.entries(await run(n.page, 'errors').catch(() => ({})))) r.errors[code] = (r.errors[code] ?? 0) + k
  await Promise.all(nodes.map(async (n) => run(n.page, 'close').catch(() => {})))
  await Promise.all(nodes.map((n) => n.context.close()))
  return r
}

try {
  const only = arg('only')?.split(',')
  const results: SuiteResult[] = []
  for (const suite of only === undefined ? SUITES : only.map((name) => SUITES.find((s) => s.name === name) ?? unknownSuite(name))) results.push(await runSuite(browser, suite))
  console.log(`${machineLine(browser.version())}\n`)
  console.log(report(results, { keys: KEYS, pages: PAGES, changes: CHANGES * 2, sets: SETS, reloadKeys: KEYS + WARMUP + SETS + BURST, burst: BURST }))
} finally {
  await browser.close()
  await vite.close()
  await ourSignaling.close()
  await lonely.close()
  for (const s of ySignaling) s.close()
}
