import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startSignalingServer, type SignalingServer } from '../../signaling/server.js'
import type { P2PError } from '../errors.js'
import { equalBytes } from '../util/bytes.js'
import { Counter } from '../testing/counter-model.js'
import { loopbackOnlyWrtc } from '../testing/node-webrtc.js'
import { waitFor } from '../testing/wait-for.js'
import type { SignalingSocketConstructor } from '../transport/signaling/signaling-client.js'
import { pageConnectionsCreated } from '../transport/webrtc/webrtc-transport.js'
import { MeshSocket, type MeshSocketOptions } from '../platform.js'
import type { ReceivedMessage } from './mesh-socket.js'

// MeshSocket over real WebRTC in Node (@roamhq/wrtc), inside the loopback-only namespace that
// `npm test` makes. Waits are on state (waitFor), never fixed sleeps.
const wrtc = loopbackOnlyWrtc()

let server: SignalingServer | undefined
const sockets: MeshSocket[] = []
afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => s.close()))
  await server?.close()
  server = undefined
})

function node(subnet: string, options: MeshSocketOptions = {}): MeshSocket {
  const mesh = new MeshSocket({ signaling: server!.url, subnet, wrtc, WebSocket: WebSocket as unknown as SignalingSocketConstructor, ...options })
  mesh.on('error', () => {})
  sockets.push(mesh)
  return mesh
}

describe('MeshSocket over WebRTC (Node)', () => {
  it('carries a toy model through the protocol seam (the replicated counter of docs/ARCHITECTURE.md)', async () => {
    server = await startSignalingServer({ port: 0 })
    const nodes: { mesh: MeshSocket; counter: Counter }[] = []
    for (let i = 0; i < 3; i++) {
      const mesh = node('counter', { maxOutgoing: 1 })
      const counter = new Counter(mesh)
      await mesh.ready()
      await counter.increment()
      nodes.push({ mesh, counter })
    }
    await nodes[2]!.counter.increment()
    const late = node('counter') // learns the count from its neighbours' state
    const lateCounter = new Counter(late)
    nodes.push({ mesh: late, counter: lateCounter })
    await waitFor(() => nodes.every((n) => n.counter.value === 4), { timeoutMs: 20_000, what: 'every counter at 4' })
  }, 60_000)

  it('rejoins by itself: through a signaling server restart, and after losing every neighbour', async () => {
    server = await startSignalingServer({ port: 0 })
    const port = server.port
    const a = node('rejoin', { rediscoverMs: 300, dialTimeoutMs: 2_000 })
    await a.ready()
    const b = node('rejoin')
    await b.ready()
    await waitFor(() => a.peers.includes(b.id), { timeoutMs: 10_000, what: 'a and b linked' })
    const events: string[] = []
    a.on('offline', () => events.push('offline'))
    a.on('online', () => events.push('online'))
    // The server restarts on the same port: a and b keep their link, go offline, come back.
    await server.close()
    await waitFor(() => events.includes('offline'), { timeoutMs: 10_000, what: 'a offline' })
    server = await startSignalingServer({ port })
    await waitFor(() => events.includes('online'), { timeoutMs: 20_000, what: 'a online again' })
    expect(events).toEqual(['offline', 'online'])
    expect(a.peers).toEqual([b.id])
    // Every neighbour of a dies; a node arrives that dials nobody: a finds it by itself.
    await b.close()
    await waitFor(() => a.peers.length === 0, { timeoutMs: 20_000, what: 'a alone' })
    const d = node('rejoin', { maxOutgoing: 0 })
    await d.ready()
    await waitFor(() => a.peers.includes(d.id), { timeoutMs: 20_000, what: 'a rediscovered the subnet' })
  }, 90_000)

  it('once bootstrapped, grows and heals without the signaling server (signals relayed through the mesh)', async () => {
    server = await startSignalingServer({ port: 0 })
    const nodes: MeshSocket[] = []
    for (let i = 0; i < 5; i++) {
      const mesh = node('assisted', { maxOutgoing: 2 })
      await mesh.ready()
      nodes.push(mesh)
    }
    await waitFor(() => nodes.every((n) => n.peers.length >= 1), { timeoutMs: 20_000, what: 'everyone linked' })
    await server.close()
    server = undefined

    // Grow: a node connects to one it is not linked to; the offer/answer/candidates can only go
    // through the mesh now.
    const [a] = nodes
    const stranger = nodes.find((n) => n !== a && !a!.peers.includes(n.id))
    if (stranger !== undefined) {
      await a!.connect(stranger.id)
      expect(a!.peers).toContain(stranger.id)
    }
    // Heal: a node leaves; the others keep (or regain) a connected network through the mesh.
    const leaving = nodes[2]!
    await leaving.close()
    const rest = nodes.filter((n) => n !== leaving)
    await waitFor(() => rest.every((n) => n.peers.length >= 1 && !n.peers.includes(leaving.id)), { timeoutMs: 20_000, what: 'healed' })
    // One broadcast reaches all of the rest, exactly once.
    const got = new Map<string, number>()
    for (const n of rest) n.on('message', (m) => m.payload[0] === 'after' && got.set(n.id, (got.get(n.id) ?? 0) + 1))
    await rest[0]!.send('after')
    await waitFor(() => got.size === rest.length - 1, { timeoutMs: 10_000, what: 'broadcast after heal' })
    expect([...got.values()].every((c) => c === 1)).toBe(true)
    if (stranger !== undefined) expect(a!.stats.relayed + rest.reduce((s, n) => s + n.stats.relayed, 0)).toBeGreaterThan(0)
  }, 90_000)

  it('stops dialling at the page connection budget, and says so once', async () => {
    server = await startSignalingServer({ port: 0 })
    const a = node('budget')
    await a.ready()
    const b = node('budget', { dialTimeoutMs: 2_000 })
    await b.ready()
    await waitFor(() => b.peers.length === 1, { timeoutMs: 10_000, what: 'a and b linked' })
    const errors: P2PError[] = []
    const c = node('budget', { connectionBudget: pageConnectionsCreated() })
    c.on('error', (e) => errors.push(e))
    await c.ready() // alone: it may not dial anyone
    expect(c.peers).toEqual([])
    expect(errors.map((e) => e.code)).toEqual(['CONNECTION_BUDGET'])
    expect(() => c.connect(a.id)).toThrow(expect.objectContaining({ code: 'CONNECTION_BUDGET' }))
    // Nor does it accept offers: a node dialling it cannot make it create a connection.
    await expect(b.connect(c.id)).rejects.toMatchObject({ code: expect.stringMatching(/^DIAL_(TIMEOUT|FAILED)$/) })
    expect(c.peers).toEqual([])
  }, 60_000)

  it('carries 10 MiB whispers and broadcasts without starving keepalives', async () => {
    server = await startSignalingServer({ port: 0 })
    // 40 MiB take longer than the 1.5 s of silence that drops a peer: only the urgent pings sent
    // between the chunks keep the link alive.
    const options = { keepaliveMs: 100, peerTimeoutMs: 1_500 }
    const a = node('large', options)
    await a.ready()
    const b = node('large', options)
    await b.ready()
    await waitFor(() => a.peers.includes(b.id), { timeoutMs: 10_000, what: 'linked' })
    const left: P2PError[] = []
    a.on('peer-left', (_id, r) => r !== undefined && left.push(r))
    b.on('peer-left', (_id, r) => r !== undefined && left.push(r))
    const big = new Uint8Array(10 * 1024 * 1024)
    for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536))
    const received: ReceivedMessage[] = []
    b.on('message', (m) => received.push(m))
    const t0 = performance.now()
    for (let i = 0; i < 3; i++) await a.whisper(b.id, big)
    await a.send('broadcast', big)
    await a.whisper(b.id, 'small, after')
    await waitFor(() => received.length === 5, { timeoutMs: 60_000, what: '4 × 10 MiB and a small one' })
    console.warn(`40 MiB over one mesh link in ${(performance.now() - t0).toFixed(0)} ms`)
    expect(received.map((m) => m.type)).toEqual(['whisper', 'whisper', 'whisper', 'broadcast', 'whisper'])
    // (equalBytes: vitest's deep equality is far too slow for 10 MiB arrays)
    for (const i of [0, 1, 2]) expect(equalBytes(received[i]!.payload[0] as Uint8Array, big)).toBe(true)
    expect(received[3]!.payload[0]).toBe('broadcast')
    expect(equalBytes(received[3]!.payload[1] as Uint8Array, big)).toBe(true)
    expect(received[4]!.payload).toEqual(['small, after'])
    expect(left).toEqual([])
    expect(a.peers).toEqual([b.id])
  }, 90_000)
})
