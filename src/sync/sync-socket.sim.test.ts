import { describe, expect, it } from 'vitest'
import { SimNetwork } from '../testing/sim-network.js'
import { simDisk } from '../testing/sim-disk.js'
import { simSyncNode, type SimSyncNode } from '../testing/sim-sync.js'
import type { SyncOptions } from './sync-socket.js'
import { StorageError, SyncError } from '../errors.js'
import { MemoryStorage } from '../storage/memory-storage.js'

// The sync table on the seeded simulated network. A failing seed replays: set SEED.
const SEED = Number(process.env.SEED ?? 20261202)
const START = 1_800_000_000_000 // virtual wall time (ms since the epoch)

async function started(sim: SimNetwork, node: SimSyncNode): Promise<void> {
  let ready = false
  void node.table.ready().then(() => (ready = true))
  expect(await sim.runUntil(() => ready)).toBe(true)
}

/** A table as plain data: key → [value, owner, expiresAt, gen]. */
function snapshot(node: SimSyncNode): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of [...node.table.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const meta = node.table.meta(key)!
    out[key] = [value, meta.owner, meta.expiresAt, meta.gen]
  }
  return out
}

async function network(sim: SimNetwork, n: number, options: SyncOptions = {}): Promise<SimSyncNode[]> {
  const nodes: SimSyncNode[] = []
  for (let i = 0; i < n; i++) {
    const node = await simSyncNode(sim, sim.random.shuffle(nodes.map((x) => x.id)).slice(0, 2), options)
    await started(sim, node)
    nodes.push(node)
  }
  return nodes
}

const converged = (nodes: SimSyncNode[]) => {
  const first = JSON.stringify(snapshot(nodes[0]!))
  return nodes.every((n) => JSON.stringify(snapshot(n)) === first)
}

describe('SyncSocket on the simulated network', () => {
  it('a set on one node is seen on every node, with the same owner, expiry and generation', async () => {
    const sim = new SimNetwork({ seed: SEED, latency: { min: 1, max: 20 }, startTime: START })
    const nodes = await network(sim, 6)
    const conflicts: unknown[] = []
    for (const n of [nodes[3]!, nodes[4]!]) n.table.on('conflict', (key, mine, winner) => conflicts.push([n.id, key, mine, winner?.writer]))
    await nodes[0]!.table.set('title', 'hello')
    // Two nodes write one free key at once: the earlier write takes the lease, the other is overruled everywhere.
    await nodes[3]!.table.applyDelta('doc', { a: 1 })
    await nodes[4]!.table.applyDelta('doc', { b: 2 })
    expect(await sim.runUntil(() => converged(nodes) && nodes.every((n) => n.table.get('title') === 'hello' && n.table.has('doc')))).toBe(true)
    const [winner, loser, lost] = nodes[1]!.table.meta('doc')!.writer === nodes[3]!.id ? [nodes[3]!, nodes[4]!, { b: 2 }] : [nodes[4]!, nodes[3]!, { a: 1 }]
    expect(nodes[1]!.table.get('doc')).toEqual(winner === nodes[3] ? { a: 1 } : { b: 2 })
    expect(conflicts).toEqual([[loser.id, 'doc', lost, winner.id]])
    expect([nodes[0]!.table.meta('title')?.source, nodes[5]!.table.meta('title')?.source]).toEqual(['local', 'remote'])
    expect(nodes[5]!.table.lease('title')).toEqual({ owner: nodes[0]!.id, expiresAt: nodes[0]!.table.meta('title')!.time + 3_600_000 + 180_000 })
  })

  it('refuses another node\'s write during the lease with LEASE_HELD (owner, expiry) and sends nothing; release frees it', async () => {
    const sim = new SimNetwork({ seed: SEED + 1, latency: { min: 1, max: 20 }, startTime: START })
    const [a, b, c] = await network(sim, 3)
    await a!.table.set('k', 'a')
    await sim.runUntil(() => b!.table.get('k') === 'a' && c!.table.get('k') === 'a')
    const err = await b!.table.set('k', 'b').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SyncError)
    expect(err).toMatchObject({ code: 'LEASE_HELD', key: 'k', owner: a!.id, expiresAt: a!.table.lease('k')!.expiresAt })
    await sim.runFor(500)
    expect(c!.table.get('k')).toBe('a')
    await a!.table.release('k')
    await sim.runUntil(() => b!.table.lease('k') === undefined)
    await b!.table.set('k', 'b')
    expect(await sim.runUntil(() => [a, b, c].every((n) => n!.table.get('k') === 'b'))).toBe(true)
    expect(a!.table.lease('k')?.owner).toBe(b!.id)
  })

  it('empty tables that all ask each other for everything at once do not wait on each other', async () => {
    // Each node's first session takes the whole table and holds back its other sessions until
    // then; a 'retrieve' is answered at once, so no ring of nodes can each wait for the next.
    for (let round = 0; round < 5; round++) {
      const sim = new SimNetwork({ seed: SEED + 40 + round, latency: { min: 1, max: 20 }, startTime: START })
      const nodes = await network(sim, 4, { leasing: false, security: 'unsigned' })
      expect(await sim.runUntil(() => nodes.every((n) => n.table.peers.length === 3))).toBe(true)
      let done = 0
      for (const n of nodes) void n.table.reconcile().then(() => done++)
      // Well within one session's 120 s timeout, which would otherwise be what ends a wait.
      const deadline = sim.now() + 5_000
      await sim.runUntil(() => done === nodes.length || sim.now() > deadline)
      expect(done).toBe(nodes.length)
    }
  })

  it('a newcomer linked to several neighbours receives a table larger than the tail once, whoever starts', async () => {
    // 1,200 keys: more than a first session's tail (512), so a neighbour that starts with its
    // newest items is followed by its session of the whole set, and the others wait for both.
    for (let round = 0; round < 3; round++) {
      const sim = new SimNetwork({ seed: SEED + 50 + round, latency: { min: 1, max: 20 }, startTime: START })
      const nodes = await network(sim, 4, { leasing: false, security: 'unsigned' })
      for (let i = 0; i < 1_200; i += 100) {
        const values: Record<string, string> = {}
        for (let j = i; j < i + 100; j++) values[`key${j}`] = `value ${j}`
        void nodes[i % 4]!.table.update(values)
        await sim.runFor(50)
      }
      expect(await sim.runUntil(() => nodes.every((n) => n.table.size === 1_200))).toBe(true)
      const late = await simSyncNode(sim, nodes.map((n) => n.id), { leasing: false, security: 'unsigned' })
      await started(sim, late)
      let synced = false
      void late.table.synced().then(() => (synced = true))
      expect(await sim.runUntil(() => synced && late.table.peers.length === 4)).toBe(true)
      await sim.runFor(10_000) // every session the links started has ended: no late duplicate goes uncounted
      expect(late.table.size).toBe(1_200)
      expect(late.table.syncStats.entriesReceived).toBe(1_200)
    }
  })

  it('replicas already equal reconcile with two probes of a few bytes each way, and no entries', async () => {
    const sim = new SimNetwork({ seed: SEED + 60, latency: { min: 1, max: 20 }, startTime: START })
    const [a, b] = await network(sim, 2, { leasing: false, security: 'unsigned' })
    const values: Record<string, string> = {}
    for (let i = 0; i < 1_000; i++) values[`key${i}`] = `value ${i}`
    await a!.table.update(values)
    expect(await sim.runUntil(() => b!.table.size === 1_000)).toBe(true)
    let synced = false
    void b!.table.synced().then(() => (synced = true))
    expect(await sim.runUntil(() => synced)).toBe(true)
    const before = { ...a!.table.syncStats }
    let done = false
    void a!.table.reconcile().then(() => (done = true))
    expect(await sim.runUntil(() => done)).toBe(true)
    const after = a!.table.syncStats
    // A probe of the newest items, then one of the whole set: one fingerprint and one answer each.
    expect(after.reconciliations - before.reconciliations).toBe(2)
    expect(after.reconcileBytes - before.reconcileBytes).toBeLessThan(120)
    expect([after.entriesSent - before.entriesSent, after.entriesReceived - before.entriesReceived]).toEqual([0, 0])
  })

  it('a newcomer receives the whole table; a partitioned pair converges after the heal', async () => {
    const sim = new SimNetwork({ seed: SEED + 2, latency: { min: 1, max: 20 }, startTime: START })
    const nodes = await network(sim, 4, { leasing: false, security: 'unsigned' })
    for (let i = 0; i < 300; i++) void nodes[i % 4]!.table.set(`key${i}`, `value ${i}`)
    expect(await sim.runUntil(() => nodes.every((n) => n.table.size === 300))).toBe(true)
    const late = await simSyncNode(sim, nodes.map((n) => n.id), { leasing: false, security: 'unsigned' })
    await started(sim, late)
    let synced = false
    void late.table.synced().then(() => (synced = true))
    expect(await sim.runUntil(() => synced)).toBe(true)
    expect(late.table.size).toBe(300)
    // One neighbour sent the table, once; the others' sessions waited for it and found nothing to send.
    expect(late.table.peers.length).toBeGreaterThan(1)
    expect(late.table.syncStats.entriesReceived).toBe(300)
    nodes.push(late)
    // Split in two; both sides write the same keys; heal: one winner everywhere.
    const left = nodes.slice(0, 2).map((n) => n.id)
    const right = nodes.slice(2).map((n) => n.id)
    sim.partition(left, right)
    await sim.runFor(20_000)
    await nodes[0]!.table.set('key1', 'left')
    await sim.runFor(1_000)
    await nodes[4]!.table.set('key1', 'right')
    await nodes[1]!.table.delete('key2')
    await sim.runFor(1_000)
    sim.heal()
    expect(await sim.runUntil(() => converged(nodes) && nodes.every((n) => n.table.peers.length > 0), 3_000_000)).toBe(true)
    expect(nodes[0]!.table.get('key1')).toBe('right') // the later write (by hybrid time) wins with leasing off
    expect(nodes[3]!.table.has('key2')).toBe(false)
  }, 60_000)

  it('a restarted node comes back with its table and still owns its leases', async () => {
    const sim = new SimNetwork({ seed: SEED + 3, latency: { min: 1, max: 20 }, startTime: START })
    const disk = simDisk()
    const [a, b] = await network(sim, 2)
    const c = await simSyncNode(sim, [a!.id], {}, { storage: disk.storage })
    await started(sim, c)
    await c.table.set('mine', 1)
    await sim.runUntil(() => a!.table.get('mine') === 1 && b!.table.get('mine') === 1)
    await c.table.close()
    const again = await simSyncNode(sim, [a!.id], {}, { storage: disk.storage, identity: c.identity })
    await again.table.restored() // no network needed
    expect(again.table.get('mine')).toBe(1)
    await started(sim, again)
    expect(again.table.get('mine')).toBe(1)
    expect(again.table.lease('mine')?.owner).toBe(again.id)
    await again.table.set('mine', 2)
    expect(await sim.runUntil(() => a!.table.get('mine') === 2)).toBe(true)
  })

  it('reconcile() runs a session with every neighbour now and resolves when they end', async () => {
    const sim = new SimNetwork({ seed: SEED + 5, latency: { min: 1, max: 20 }, startTime: START })
    const nodes = await network(sim, 4, { antiEntropyMs: 3_600_000 })
    for (let i = 0; i < 20; i++) await nodes[i % 4]!.table.set(`k${i}`, i)
    await sim.runUntil(() => nodes.every((n) => n.table.size === 20))
    await sim.runFor(10_000) // every session the joins started is over
    const before = nodes[0]!.table.syncStats.reconciliations
    let done = false
    void nodes[0]!.table.reconcile().then(() => (done = true))
    expect(await sim.runUntil(() => done)).toBe(true)
    expect(nodes[0]!.table.syncStats.reconciliations - before).toBe(nodes[0]!.table.peers.length)
  })

  it('what a heal teaches one node spreads hop by hop at once, not at the next periodic round', async () => {
    const sim = new SimNetwork({ seed: SEED + 6, latency: { min: 1, max: 20 }, startTime: START, failureDetectionMs: 2_000 })
    // A line a — b — c — d, periodic anti-entropy an hour apart.
    const options = { antiEntropyMs: 3_600_000, maxOutgoing: 1, maxIncoming: 1, security: 'unsigned' as const }
    const line: SimSyncNode[] = []
    for (let i = 0; i < 4; i++) {
      const node = await simSyncNode(sim, line.slice(-1).map((n) => n.id), options)
      await started(sim, node)
      line.push(node)
    }
    const [a, , , d] = line
    await sim.runFor(5_000)
    sim.partition([d!.id], line.slice(0, 3).map((n) => n.id))
    await sim.runFor(10_000) // d's link fails
    await d!.table.set('from d', 'cut off')
    await a!.table.set('from a', 'meanwhile')
    sim.heal()
    const healedAt = sim.now()
    expect(await sim.runUntil(() => a!.table.has('from d') && d!.table.has('from a'), 2_000_000)).toBe(true)
    expect(sim.now() - healedAt).toBeLessThan(120_000)
  }, 60_000)

  it('a tab whose timers wake once a minute (a hidden tab without WebRTC) keeps its links and its table in step', async () => {
    const sim = new SimNetwork({ seed: SEED + 7, latency: { min: 1, max: 20 }, startTime: START })
    const nodes = await network(sim, 3)
    // Every timer of this node fires at the next whole minute at the earliest (Chromium's intensive throttling).
    const minute = 60_000
    const throttled = await simSyncNode(sim, [nodes[0]!.id], {}, {
      wrapClock: (clock) => ({ now: () => clock.now(), setTimeout: (fn, ms) => clock.setTimeout(fn, Math.ceil((clock.now() + ms) / minute) * minute - clock.now()), clearTimeout: (h) => clock.clearTimeout(h) }),
    })
    await started(sim, throttled)
    const left: string[] = []
    throttled.table.on('peer-left', (id) => left.push(id))
    for (let i = 0; i < 10; i++) {
      await sim.runFor(30_000)
      await nodes[i % 3]!.table.set(`while hidden ${i}`, i)
    }
    expect(await sim.runUntil(() => throttled.table.size === 10)).toBe(true)
    await throttled.table.set('from the hidden tab', 'ok')
    expect(await sim.runUntil(() => nodes.every((n) => n.table.get('from the hidden tab') === 'ok'))).toBe(true)
    expect(left).toEqual([])
  }, 60_000)

  it('storage that fails (quota) is reported once, and the table carries on in memory', async () => {
    const sim = new SimNetwork({ seed: SEED + 4, latency: { min: 1, max: 20 }, startTime: START })
    const [a] = await network(sim, 1)
    let full = false
    const storage = new MemoryStorage({ failWith: () => (full ? new StorageError('STORAGE_QUOTA', 'quota exceeded') : undefined) })
    const b = await simSyncNode(sim, [a!.id], {}, { storage: () => storage })
    const errors: string[] = []
    b.table.on('error', (e) => errors.push(e.code))
    await started(sim, b)
    await b.table.set('before', 1)
    await b.table.persisted()
    expect((await storage.loadAll()).map(([k]) => k)).toContain('k:before')
    full = true
    await b.table.set('after', 2)
    await b.table.set('again', 3)
    expect(await sim.runUntil(() => a!.table.get('again') === 3)).toBe(true)
    await b.table.persisted()
    await b.table.set('and again', 4)
    await b.table.persisted()
    expect(errors).toEqual(['STORAGE_QUOTA'])
    expect([b.table.get('after'), b.table.get('again')]).toEqual([2, 3])
  })
})
