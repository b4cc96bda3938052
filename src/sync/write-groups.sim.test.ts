import { describe, expect, it } from 'vitest'
import { SimNetwork } from '../testing/sim-network.js'
import { simDisk } from '../testing/sim-disk.js'
import { simSyncNode, type SimSyncNode } from '../testing/sim-sync.js'
import type { SyncOptions } from './options.js'

// update() as groups of writes: one flooded message and one signature per group, checked once
// wherever the group goes (flooded, transferred to a newcomer, stored and restored).
const SEED = Number(process.env.SEED ?? 20261207)
const START = 1_800_000_000_000

async function network(seed: number, n: number, options: SyncOptions = {}) {
  const sim = new SimNetwork({ seed, latency: { min: 1, max: 20 }, startTime: START })
  const nodes: SimSyncNode[] = []
  for (let i = 0; i < n; i++) {
    const node = await simSyncNode(sim, nodes.map((x) => x.id).slice(-2), options)
    let up = false
    void node.table.ready().then(() => (up = true))
    expect(await sim.runUntil(() => up)).toBe(true)
    nodes.push(node)
  }
  return { sim, nodes }
}

const values = (n: number, from = 0): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`key${from + i}`, `value ${from + i}`]))
const holds = (node: SimSyncNode, want: Record<string, string>): boolean => Object.entries(want).every(([k, v]) => node.table.get(k) === v)

describe('groups of writes (update())', () => {
  it('signed: 1,500 keys reach every node with one signature check per group, a newcomer too, and a reload keeps them', async () => {
    const { sim, nodes } = await network(SEED, 5)
    const want = values(1_500)
    const checks0 = nodes.map((n) => n.table.syncStats.signatureChecks)
    await nodes[0]!.table.update(want)
    expect(await sim.runUntil(() => nodes.every((n) => holds(n, want)))).toBe(true)
    // 1,500 short writes: 2 groups (1,024 writes at most each), one check each on every receiver
    // (per-write signatures: 1,500 checks).
    const checks = nodes.map((n, i) => n.table.syncStats.signatureChecks - checks0[i]!)
    expect(checks).toEqual([0, 2, 2, 2, 2])
    expect(nodes.every((n) => n.table.syncStats.forged === 0)).toBe(true)

    // A newcomer takes the table by state transfer: the groups travel beside the writes.
    const disk = simDisk()
    const newcomer = await simSyncNode(sim, [nodes[4]!.id], {}, { storage: disk.storage })
    await sim.runUntil(() => holds(newcomer, want))
    expect(holds(newcomer, want)).toBe(true)
    expect(newcomer.table.syncStats.forged).toBe(0)
    expect(newcomer.table.syncStats.signatureChecks).toBeLessThanOrEqual(4) // 2 groups (+ its first link's sessions may each check them)
    // It can relay them: a second newcomer learns them from it alone.
    const second = await simSyncNode(sim, [newcomer.id])
    await sim.runUntil(() => holds(second, want))
    expect(holds(second, want)).toBe(true)
    expect(second.table.syncStats.forged).toBe(0)

    // Stored with their groups: a reload restores every write and relays them again.
    await newcomer.table.close()
    const again = await simSyncNode(sim, [], {}, { storage: disk.storage, identity: newcomer.identity })
    let restored = false
    void again.table.restored().then(() => (restored = true))
    expect(await sim.runUntil(() => restored)).toBe(true)
    expect(holds(again, want)).toBe(true)
    const fresh = await simSyncNode(sim, [again.id])
    await sim.runUntil(() => holds(fresh, want))
    expect(holds(fresh, want)).toBe(true)
    expect(fresh.table.syncStats.forged).toBe(0)
  }, 120_000)

  it('a heal sends a group partly: the leaves of the writes not sent travel with it', async () => {
    const { sim, nodes } = await network(SEED + 1, 3)
    await nodes[0]!.table.update(values(300))
    expect(await sim.runUntil(() => nodes.every((n) => holds(n, values(300))))).toBe(true)
    // Node 0 overwrites 100 of the keys one by one: the group's other 200 writes still stand.
    for (let i = 0; i < 100; i++) await nodes[0]!.table.set(`key${i}`, `new ${i}`)
    const want = { ...values(300), ...Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`key${i}`, `new ${i}`])) }
    expect(await sim.runUntil(() => nodes.every((n) => holds(n, want)))).toBe(true)
    const newcomer = await simSyncNode(sim, [nodes[2]!.id])
    await sim.runUntil(() => holds(newcomer, want))
    expect(holds(newcomer, want)).toBe(true)
    expect(newcomer.table.syncStats.forged).toBe(0)
  }, 120_000)

  it('unsigned: update() floods the writes together and every replica holds them', async () => {
    const { sim, nodes } = await network(SEED + 2, 4, { security: 'unsigned' })
    const want = values(2_000)
    await nodes[1]!.table.update(want)
    expect(await sim.runUntil(() => nodes.every((n) => holds(n, want)))).toBe(true)
    expect(nodes.every((n) => n.table.syncStats.signatureChecks === 0)).toBe(true)
    const newcomer = await simSyncNode(sim, [nodes[0]!.id], { security: 'unsigned' })
    await sim.runUntil(() => holds(newcomer, want))
    expect(holds(newcomer, want)).toBe(true)
  }, 120_000)

  it('set() calls made in one task are flooded together: one check per group at each receiver; a refused one leaves the others', async () => {
    const { sim, nodes } = await network(SEED + 3, 4)
    const [a, b] = nodes
    await a!.table.set('held', 'by a')
    expect(await sim.runUntil(() => nodes.every((n) => n.table.get('held') === 'by a'))).toBe(true)
    const checks0 = nodes.map((n) => n.table.syncStats.signatureChecks)
    // 300 sets in one loop, and a set of a key a holds among them.
    const results = [b!.table.set('held', 'by b'), ...Array.from({ length: 300 }, (_, i) => b!.table.set(`loop${i}`, i))]
    const settled = Promise.allSettled(results)
    let outcomes: Array<PromiseSettledResult<void>> | undefined
    void settled.then((r) => (outcomes = r))
    expect(await sim.runUntil(() => outcomes !== undefined && nodes.every((n) => n.table.get('loop299') === 299))).toBe(true)
    expect(outcomes![0]!.status).toBe('rejected')
    expect((outcomes![0] as PromiseRejectedResult).reason).toMatchObject({ code: 'LEASE_HELD' })
    expect(outcomes!.slice(1).every((o) => o.status === 'fulfilled')).toBe(true)
    expect(nodes.every((n) => n.table.get('held') === 'by a' && n.table.size === 301)).toBe(true)
    // One group of 300 writes: one check at each receiver (per-write signatures: 300).
    expect(nodes.map((n, i) => n.table.syncStats.signatureChecks - checks0[i]!)).toEqual([1, 0, 1, 1])
  }, 120_000)
})
