import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startSignalingServer, type SignalingServer } from '../../signaling/server.js'
import { SyncError } from '../errors.js'
import { loopbackOnlyWrtc } from '../testing/node-webrtc.js'
import { waitFor } from '../testing/wait-for.js'
import type { SignalingSocketConstructor } from '../transport/signaling/signaling-client.js'
import { SyncSocket, type SyncSocketOptions } from '../platform.js'

// SyncSocket over real WebRTC in Node (@roamhq/wrtc) and our signaling server, inside the
// loopback-only namespace (`node e2e/isolate.mjs`). Node has no IndexedDB: the table lives in
// memory and the identity is ephemeral. Waits are on state (waitFor), never fixed sleeps.
const wrtc = loopbackOnlyWrtc()

let server: SignalingServer | undefined
const sockets: SyncSocket[] = []
afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => s.close()))
  await server?.close()
  server = undefined
})

/** A SyncSocket on the test's server; await its ready() (listeners added before it see every event). */
function node(subnet: string, options: SyncSocketOptions = {}): SyncSocket {
  const sync = new SyncSocket({ signaling: server!.url, subnet, wrtc, WebSocket: WebSocket as unknown as SignalingSocketConstructor, ...options })
  sync.on('error', () => {})
  sockets.push(sync)
  return sync
}

async function started(subnet: string): Promise<SyncSocket> {
  const sync = node(subnet)
  await sync.ready()
  return sync
}

describe('SyncSocket over WebRTC (Node)', () => {
  it('three nodes: a set is seen by all, and another node\'s set of the leased key is refused with LEASE_HELD', async () => {
    server = await startSignalingServer({ port: 0 })
    const nodes: SyncSocket[] = []
    for (let i = 0; i < 3; i++) nodes.push(await started('sync-three'))
    const [a, b, c] = nodes as [SyncSocket, SyncSocket, SyncSocket]
    // Every link formed and reconciled first: the write can then only arrive flooded ('remote').
    await waitFor(() => nodes.every((n) => n.peers.length === 2), { timeoutMs: 20_000, what: 'every node linked to both others' })
    await Promise.all(nodes.map((n) => n.synced()))

    const seen: string[] = []
    c.on('update', (key, value, meta) => seen.push(`${key}=${String(value)} by ${meta.writer === a.id ? 'a' : meta.writer} (${meta.source})`))
    await a.set('title', 'hello')
    await waitFor(() => nodes.every((n) => n.get('title') === 'hello'), { timeoutMs: 10_000, what: 'the set on every node' })
    expect(seen).toEqual(['title=hello by a (remote)'])
    for (const n of nodes) expect(n.lease('title')?.owner).toBe(a.id)
    const meta = b.meta('title')!
    expect(meta.owner).toBe(a.id)
    expect(meta.expiresAt).toBe(meta.time + 3_600_000 + 180_000) // leaseMs + maxDriftMs

    const refused = await b.set('title', 'mine now').then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(refused).toBeInstanceOf(SyncError)
    expect(refused).toMatchObject({ code: 'LEASE_HELD', key: 'title', owner: a.id, expiresAt: meta.expiresAt })
    // Nothing was sent: every table still holds a's value; a's own next write goes through.
    await a.set('title', 'hello again')
    await waitFor(() => nodes.every((n) => n.get('title') === 'hello again'), { timeoutMs: 10_000, what: 'the owner\'s next write everywhere' })
    expect(nodes.map((n) => n.syncStats.refused)).toEqual([0, 0, 0])
    expect(nodes.map((n) => n.meta('title')!.gen)).toEqual([2, 2, 2])
  }, 60_000)

  it('a newcomer receives a 1,000-key table by anti-entropy', async () => {
    server = await startSignalingServer({ port: 0 })
    const a = await started('sync-newcomer')
    const b = await started('sync-newcomer')
    await waitFor(() => a.peers.includes(b.id), { timeoutMs: 20_000, what: 'a and b linked' })
    const values: Record<string, unknown> = {}
    for (let i = 0; i < 1_000; i++) values[`key-${String(i).padStart(4, '0')}`] = { i, text: `value ${i}` }
    for (let i = 0; i < 1_000; i += 250) await a.update(Object.fromEntries(Object.entries(values).slice(i, i + 250)))
    await waitFor(() => b.size === 1_000, { timeoutMs: 20_000, what: 'b to get the 1,000 flooded writes' })

    const t0 = performance.now()
    const c = node('sync-newcomer')
    const sources = new Map<string, number>()
    c.on('update', (_key, _value, meta) => sources.set(meta.source, (sources.get(meta.source) ?? 0) + 1))
    await c.ready()
    await waitFor(() => c.size === 1_000, { timeoutMs: 30_000, what: 'the newcomer to hold 1,000 keys' })
    console.warn(`newcomer over WebRTC (Node): 1,000 keys in ${(performance.now() - t0).toFixed(0)} ms from its start`)
    await c.synced()
    expect(Object.fromEntries(c.entries())).toEqual(values)
    // They came by reconciliation (no write was flooded after c joined): one update event each.
    expect(Object.fromEntries(sources)).toEqual({ sync: 1_000 })
    expect(c.syncStats.entriesReceived).toBeGreaterThanOrEqual(1_000)
    expect(c.syncStats.reconciliations).toBeGreaterThanOrEqual(1)
    expect(c.meta('key-0999')).toMatchObject({ owner: a.id, writer: a.id, gen: 1 })
  }, 90_000)
})
