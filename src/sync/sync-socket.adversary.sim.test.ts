import { describe, expect, it } from 'vitest'
import type { P2PError } from '../errors.js'
import type { MeshPort, MeshProtocol } from '../mesh/protocol.js'
import { SimNetwork } from '../testing/sim-network.js'
import { simMeshNode, type SimMeshNode } from '../testing/sim-mesh.js'
import { simSyncNode, type SimSyncNode } from '../testing/sim-sync.js'
import { SYNC_FLAGS as F } from './messages.js'
import { GroupTree } from './group-tree.js'
import type { KeyState } from './key-state.js'
import { transferColumns } from './transfer.js'
import { groupStatement, writeLeaf, writeStatement, type Write } from './write.js'

// Hostile nodes against the sync table in the signed mode, on the seeded simulated network: every
// honest replica refuses the same things, counts them, reports them, and keeps one table.
const SEED = Number(process.env.SEED ?? 20261202)
const START = 1_800_000_000_000

interface Honest extends SimSyncNode {
  errors: P2PError[]
}

/** A node speaking the sync protocol by hand: it claims the sync flags and sends whatever the test says. */
async function attacker(sim: SimNetwork, bootstrap: string[]): Promise<{ node: SimMeshNode; port: MeshPort; heard: unknown[][] }> {
  const heard: unknown[][] = []
  const node = await simMeshNode(sim, bootstrap, {}, false, undefined, 'sync1')
  const protocol: MeshProtocol = {
    name: 'sync', // its signatures then carry the sync table's context, as an honest node's do
    claims: [
      { route: 'broadcast', sub: F.store },
      { route: 'broadcast', sub: F.delta },
      { route: 'broadcast', sub: F.revoke },
      { route: 'broadcast', sub: F.batch },
      { route: 'whisper', sub: F.store },
      { route: 'whisper', sub: F.reconcile },
      { route: 'whisper', sub: F.retrieve },
      { route: 'whisper', sub: F.retrieved },
    ],
    onMessage: (m) => void heard.push([m.sub, ...(m.value as unknown[])]),
  }
  return { node, port: node.socket.register(protocol), heard }
}

async function setup(seed: number) {
  const sim = new SimNetwork({ seed, latency: { min: 1, max: 20 }, startTime: START })
  const honest: Honest[] = []
  for (let i = 0; i < 5; i++) {
    const n = await simSyncNode(sim, honest.map((h) => h.id).slice(-2))
    const node: Honest = { ...n, errors: [] }
    node.table.on('error', (e) => node.errors.push(e))
    let up = false
    void n.table.ready().then(() => (up = true))
    expect(await sim.runUntil(() => up)).toBe(true)
    honest.push(node)
  }
  const evil = await attacker(sim, honest.map((h) => h.id))
  expect(await sim.runUntil(() => evil.node.socket.peers.length >= 3)).toBe(true)
  return { sim, honest, evil }
}

/** Key states as a state transfer's columns; a grouped write names the first group of the message's list. */
const columns = (entries: Array<[string, Write[]]>): unknown[] =>
  transferColumns(
    entries.map(([key, log]): [string, KeyState] => [key, { base: undefined, log }]),
    { encode: (_, index) => [0, index], decode: () => { throw new Error('not decoded here') } },
  )

/** `w` claiming place `index` in a group (the group itself travels in the message's list). */
const inGroup = (w: Write, index: number): Write => ({ ...w, group: { writer: w.writer, sig: new Uint8Array(64), size: index + 1, tree: new GroupTree(index + 1) }, index })

const views = (nodes: Honest[]) => nodes.map((n) => JSON.stringify([...n.table.entries()].sort().map(([k, v]) => [k, v, n.table.meta(k)?.owner, n.table.meta(k)?.gen])))

describe('SyncSocket against hostile nodes (signed mode)', () => {
  it('a write forged in another node\'s name, relayed as state transfer, is refused by every replica and counted', async () => {
    const { sim, honest, evil } = await setup(SEED)
    const [a] = honest
    await a!.table.set('doc', 'by a')
    await sim.runUntil(() => honest.every((n) => n.table.get('doc') === 'by a'))
    // The attacker claims a's name: a set and a release, with a signature that is not a's.
    const stamp = { ms: Math.floor(sim.now()) + 1, counter: 0 }
    const forgedSet: Write = { kind: 'set', stamp, writer: a!.id, value: 'evil' }
    const forgedRelease: Write = { kind: 'release', stamp: { ...stamp, counter: 1 }, writer: a!.id }
    const badSig = await evil.port.sign(writeStatement('doc', forgedSet)) // the attacker's key, not a's
    const entries = columns([['doc', [{ ...forgedSet, sig: badSig }, { ...forgedRelease, sig: badSig }]]])
    for (const peer of evil.port.peers) await evil.port.direct(peer, F.store, entries, [[a!.id, evil.port.publicKey]])
    await sim.runFor(2_000)
    expect(honest.map((n) => n.table.get('doc'))).toEqual(honest.map(() => 'by a'))
    expect(honest.map((n) => n.table.lease('doc')?.owner)).toEqual(honest.map(() => a!.id))
    const receivers = honest.filter((n) => evil.port.peers.includes(n.id))
    for (const n of receivers) expect(n.table.syncStats.forged).toBeGreaterThanOrEqual(2)
    for (const n of receivers) expect(n.errors.some((e) => e.code === 'INVALID_WRITE')).toBe(true)
  })

  it('a lease cannot be stolen: a validly signed write by another node during the lease is refused everywhere', async () => {
    const { sim, honest, evil } = await setup(SEED + 1)
    const [a] = honest
    await a!.table.set('lock', 'mine')
    await sim.runUntil(() => honest.every((n) => n.table.get('lock') === 'mine'))
    const steal: Write = { kind: 'set', stamp: { ms: Math.floor(sim.now()) + 5, counter: 0 }, writer: evil.node.id, value: 'stolen' }
    const sig = await evil.port.sign(writeStatement('lock', steal))
    await evil.port.broadcast(F.store, 'lock', 'stolen', steal.stamp.ms, 0, sig)
    await sim.runFor(2_000)
    expect(honest.map((n) => [n.table.get('lock'), n.table.lease('lock')?.owner])).toEqual(honest.map(() => ['mine', a!.id]))
    expect(honest.every((n) => n.table.syncStats.refused === 1)).toBe(true)
    expect(honest.every((n) => n.errors.some((e) => e.code === 'LEASE_HELD'))).toBe(true)
    // A replay of an old write of a's changes nothing either.
    const before = views(honest)
    await a!.table.set('lock', 'newer')
    await sim.runUntil(() => honest.every((n) => n.table.get('lock') === 'newer'))
    const old = a!.table.meta('lock')!
    expect(old.gen).toBe(2)
    for (const peer of evil.port.peers) await evil.port.direct(peer, F.store, columns([['lock', []]]))
    await sim.runFor(1_000)
    expect(views(honest).every((v) => v === views(honest)[0])).toBe(true)
    expect(before).not.toEqual(views(honest))
  })

  it('a future-dated write is held back everywhere until its time, then applied everywhere', async () => {
    const { sim, honest, evil } = await setup(SEED + 2)
    const ahead = 60 * 60_000
    const w: Write = { kind: 'set', stamp: { ms: Math.floor(sim.now()) + ahead, counter: 0 }, writer: evil.node.id, value: 'from the future' }
    await evil.port.broadcast(F.store, 'later', w.value, w.stamp.ms, 0, await evil.port.sign(writeStatement('later', w)))
    await sim.runFor(5_000)
    expect(honest.map((n) => n.table.has('later'))).toEqual(honest.map(() => false))
    expect(honest.map((n) => n.table.syncStats.held)).toEqual(honest.map(() => 1))
    expect(await sim.runUntil(() => honest.every((n) => n.table.get('later') === 'from the future'), 5_000_000)).toBe(true)
    expect(sim.now()).toBeGreaterThanOrEqual(w.stamp.ms - 180_000) // not before maxDriftMs ahead of its stamp
  })

  it('oversized keys and values are dropped at the door (bad frames, counted); a flood of writes leaves one table', async () => {
    const { sim, honest, evil } = await setup(SEED + 3)
    const bad = async (key: string, value: unknown) => {
      const w: Write = { kind: 'set', stamp: { ms: Math.floor(sim.now()), counter: 0 }, writer: evil.node.id, value }
      await evil.port.broadcast(F.store, key, value, w.stamp.ms, 0, await evil.port.sign(writeStatement(key, w)))
    }
    const badFrames = () => honest.reduce((s, n) => s + n.table.stats.badFrames, 0)
    await bad('k'.repeat(2_000), 'x')
    await bad('big', 'v'.repeat(70_000))
    await sim.runFor(2_000)
    expect(honest.every((n) => !n.table.has('big'))).toBe(true)
    expect(badFrames()).toBeGreaterThanOrEqual(2)
    // A flood: 600 signed writes as fast as the attacker can send.
    for (let i = 0; i < 600; i++) {
      const key = `spam${i % 50}`
      const w: Write = { kind: 'set', stamp: { ms: Math.floor(sim.now()), counter: i }, writer: evil.node.id, value: i }
      void evil.port.broadcast(F.store, key, i, w.stamp.ms, i, await evil.port.sign(writeStatement(key, w)))
    }
    await honest[0]!.table.set('honest', 'still works')
    expect(await sim.runUntil(() => honest.every((n) => n.table.get('honest') === 'still works'))).toBe(true)
    await sim.runFor(60_000)
    const v = views(honest)
    expect(v.every((x) => x === v[0])).toBe(true)
  }, 120_000)

  it('groups of writes: a forged group, a write changed under a real group, a batch signed over other writes are all refused', async () => {
    const { sim, honest, evil } = await setup(SEED + 4)
    const [a] = honest
    await a!.table.update({ x: '1', y: '2' })
    expect(await sim.runUntil(() => honest.every((n) => n.table.get('y') === '2') && evil.heard.some((h) => h[0] === F.batch))).toBe(true)
    const flooded = evil.heard.find((h) => h[0] === F.batch)!
    const realSig = flooded[2] as Uint8Array
    const forged0 = honest.map((n) => n.table.syncStats.forged)
    const stamp = { ms: Math.floor(sim.now()) + 1, counter: 0 }
    const evilX: Write = { kind: 'set', stamp, writer: a!.id, value: 'evil' }
    const pk = [[a!.id, evil.port.publicKey]]
    // 1. A group in a's name, signed with the attacker's key.
    const ownSig = await evil.port.sign(groupStatement(1, writeLeaf('x', evilX)))
    for (const peer of evil.port.peers) await evil.port.direct(peer, F.store, columns([['x', [inGroup(evilX, 0)]]]), pk, [[a!.id, ownSig, 1, []]])
    // 2. a's real group, with the write at index 0 changed (the other leaf given as it was).
    const realY = a!.table.meta('y')!
    const y: Write = { kind: 'set', stamp: realY.stamp, writer: a!.id, value: '2' }
    const realX = a!.table.meta('x')!
    const changed: Write = { kind: 'set', stamp: realX.stamp, writer: a!.id, value: 'changed' }
    for (const peer of evil.port.peers) await evil.port.direct(peer, F.store, columns([['x', [inGroup(changed, 0)]]]), pk, [[a!.id, realSig, 2, [[0, 1, writeLeaf('y', y)]]]])
    // 3. A flooded batch whose signature covers other writes than the ones it carries.
    const other = await evil.port.sign(groupStatement(2, new Uint8Array(16).fill(7)))
    await evil.port.broadcast(F.batch, [['z1', 0, stamp.ms, 0, 'a'], ['z2', 0, stamp.ms, 1, 'b']], other)
    await sim.runFor(3_000)
    expect(honest.map((n) => [n.table.get('x'), n.table.get('y'), n.table.has('z1'), n.table.has('z2')])).toEqual(honest.map(() => ['1', '2', false, false]))
    const receivers = honest.filter((n) => evil.port.peers.includes(n.id))
    for (const n of receivers) expect(n.table.syncStats.forged - forged0[honest.indexOf(n)]!).toBeGreaterThanOrEqual(4)
    const v = views(honest)
    expect(v.every((x) => x === v[0])).toBe(true)
  })
})
