import { SimNetwork } from '../src/testing/sim-network.js'
import { simSyncNode, type SimSyncNode } from '../src/testing/sim-sync.js'
import { keyOf, rawBytes, valueOf } from './browser/sync-data.js'

// The sync bench's byte counts, on the seeded simulated network instead of Chromium: the same
// table (10,000 keys of bench/browser/sync-data.ts, filled by two pages in groups of 1,000), the
// same newcomer and the same heal (16 nodes in halves, 50 keys changed on each side, each node
// of one half then links to its counterpart). Bytes are what the links carry (frames as sent,
// compressed by the link); the time is virtual, so only the bytes and counts mean anything.
// Deterministic for a seed: a change to the protocol shows as a change here in seconds.
// Run: npm run bench:sync:sim -- [--keys N] [--seeds 1,2,3] [--only signed|unsigned] [--latency min,max]

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? undefined : process.argv[i + 1]
}
const KEYS = Number(arg('keys') ?? 10_000)
const SEEDS = (arg('seeds') ?? '1,2,3').split(',').map(Number)
const MODES = (arg('only') ?? 'signed,unsigned').split(',') as Array<'signed' | 'unsigned'>
const PAGES = 16
const HALF = PAGES / 2
const CHANGES = KEYS / 200 // per half, as the browser bench
const LATENCY = (arg('latency') ?? '2,10').split(',').map(Number)
const raw = Array.from({ length: KEYS }, (_, i) => rawBytes(i)).reduce((a, b) => a + b, 0)

async function run(mode: 'signed' | 'unsigned', seed: number): Promise<{ newcomer: number; heal: number; healEntries: number; healSessions: number }> {
  const options = { security: mode }
  const sim = new SimNetwork({ seed, latency: { min: LATENCY[0]!, max: LATENCY[1]! }, startTime: 1_800_000_000_000 })
  const start = async (bootstrap: string[]): Promise<SimSyncNode> => {
    const n = await simSyncNode(sim, bootstrap, options)
    let up = false
    void n.table.ready().then(() => (up = true))
    if (!(await sim.runUntil(() => up))) throw new Error('a node did not start')
    return n
  }
  const until = async (what: string, done: () => boolean): Promise<void> => {
    if (!(await sim.runUntil(done))) throw new Error(`${what}: the simulation ran out of steps`)
  }
  const nodes: SimSyncNode[] = []
  for (let i = 0; i < PAGES - 1; i++) nodes.push(await start(nodes.map((x) => x.id).slice(-3)))
  const entries = (from: number, n: number, version: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, j) => [keyOf(from + j), valueOf(from + j, version)]))
  const batch = Math.min(1_000, KEYS / 10) // as the browser bench: each writer fills its half in 5 rounds
  for (let r = 0; r < KEYS / 2 / batch; r++) {
    await nodes[0]!.table.update(entries(r * batch, batch, 0))
    await nodes[HALF]!.table.update(entries(KEYS / 2 + r * batch, batch, 0))
    await until('fill', () => nodes.every((n) => n.table.size >= (r + 1) * 2 * batch))
  }
  await sim.runFor(10_000)

  // The newcomer: bytes on every link until it holds every key.
  const b0 = sim.stats.bytesDelivered
  const newcomer = await start([nodes[3]!.id, nodes[HALF + 1]!.id])
  await until('newcomer', () => newcomer.table.size >= KEYS)
  const newcomerBytes = sim.stats.bytesDelivered - b0
  nodes.push(newcomer)
  await sim.runFor(10_000)

  // The heal: halves split, each changes CHANGES keys its writer owns, then counterparts link.
  const [left, right] = [nodes.slice(0, HALF), nodes.slice(HALF)]
  sim.partition(left.map((n) => n.id), right.map((n) => n.id))
  const onLeft = new Set(left.map((n) => n.id))
  await until('split', () => nodes.every((n, i) => n.table.peers.length > 0 && n.table.peers.every((p) => onLeft.has(p) === i < HALF)))
  const stride = KEYS / 2 / CHANGES
  const changed = [0, 1].map((h) => Array.from({ length: CHANGES }, (_, j) => h * (KEYS / 2) + j * stride))
  const has = (n: SimSyncNode, keys: number[]): boolean => keys.every((k) => n.table.get(keyOf(k)) === valueOf(k, 1))
  await nodes[0]!.table.update(Object.fromEntries(changed[0]!.map((k) => [keyOf(k), valueOf(k, 1)])))
  await nodes[HALF]!.table.update(Object.fromEntries(changed[1]!.map((k) => [keyOf(k), valueOf(k, 1)])))
  await until('changes', () => nodes.every((n, i) => has(n, changed[i < HALF ? 0 : 1]!)))
  await sim.runFor(3_000)
  const stats = (): { entries: number; sessions: number } =>
    nodes.reduce((a, n) => ({ entries: a.entries + n.table.syncStats.entriesReceived, sessions: a.sessions + n.table.syncStats.reconciliations }), { entries: 0, sessions: 0 })
  const [h0, s0] = [sim.stats.bytesDelivered, stats()]
  sim.heal()
  for (let i = 0; i < HALF; i++) void left[i]!.table.connect(right[i]!.id).catch(() => {})
  await until('heal', () => nodes.every((n) => has(n, [...changed[0]!, ...changed[1]!])))
  const s1 = stats()
  const result = { newcomer: newcomerBytes, heal: sim.stats.bytesDelivered - h0, healEntries: s1.entries - s0.entries, healSessions: s1.sessions - s0.sessions }
  await Promise.all(nodes.map((n) => n.table.close()))
  return result
}

const lacked = PAGES * CHANGES * (raw / KEYS)
const f = (x: number, d = 2): string => x.toFixed(d)
console.log(`${KEYS} keys (${(raw / 1000).toFixed(1)} KB raw), ${PAGES} nodes; heal: ${CHANGES} changed a side, the nodes lacked ${(lacked / 1000).toFixed(1)} KB`)
console.log('| mode | seed | newcomer KB | ÷ raw | heal KB | ÷ lacked | heal entries (needed) | heal sessions |')
console.log('|---|---|---|---|---|---|---|---|')
for (const mode of MODES) {
  for (const seed of SEEDS) {
    const r = await run(mode, seed)
    console.log(`| ${mode} | ${seed} | ${f(r.newcomer / 1000, 1)} | ${f(r.newcomer / raw)} | ${f(r.heal / 1000, 1)} | ${f(r.heal / lacked)} | ${r.healEntries} (${PAGES * CHANGES}) | ${r.healSessions} |`)
  }
}
process.exit(0)
