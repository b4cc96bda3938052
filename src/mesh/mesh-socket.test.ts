import { afterEach, describe, expect, it } from 'vitest'
import { MeshError, type P2PError } from '../errors.js'
import { SimNetwork } from '../testing/sim-network.js'
import { simMeshNode, type SimMeshNode } from '../testing/sim-mesh.js'
import { FLAGS, frameBody } from '../wire/index.js'
import { simRawPeer, type RawPeer, type SimRawPeerOptions } from '../testing/raw-peer.js'
import { MeshSocket } from './mesh-socket.js'
import { MeshSocket as PublicMeshSocket } from '../platform.js'

// MeshSocket behaviour on small simulated networks (virtual time: no sleeps anywhere).

let sims: SimNetwork[] = []
afterEach(() => {
  sims = []
})
function network(seed = 7): SimNetwork {
  const sim = new SimNetwork({ seed, latency: { min: 1, max: 10 } })
  sims.push(sim)
  return sim
}

/** A line a — b — c (each bootstraps only from the previous one; no peer exchange beyond). */
async function line(sim: SimNetwork): Promise<[SimMeshNode, SimMeshNode, SimMeshNode]> {
  const a = await simMeshNode(sim, [], { maxOutgoing: 1 })
  const b = await simMeshNode(sim, [a.id], { maxOutgoing: 1 })
  const c = await simMeshNode(sim, [b.id], { maxOutgoing: 1, maxIncoming: 0 })
  expect(await sim.runUntil(() => c.socket.peers.length === 1 && a.socket.peers.length === 1)).toBe(true)
  return [a, b, c]
}

/** A raw link into `target`, speaking frames by hand (an arbitrary, possibly hostile peer). */
function rawPeer(sim: SimNetwork, target: SimMeshNode, protocolId: string, options: SimRawPeerOptions = {}): Promise<RawPeer> {
  return simRawPeer(sim, target.id, protocolId, options)
}

/** The sim's time in Unix seconds (what a frame's timestamp should say to be within the replay window). */
const simSeconds = (sim: SimNetwork): number => Math.floor(sim.clock.now() / 1000)

describe('MeshSocket', () => {
  it('is ready alone when there is nobody to dial', async () => {
    const sim = network()
    const a = await simMeshNode(sim, [])
    let ready = false
    void a.socket.ready().then(() => (ready = true))
    expect(await sim.runUntil(() => ready)).toBe(true)
    expect(a.socket.peers).toEqual([])
  })

  it('whispers directly and through the mesh, and msg.reply() answers either way', async () => {
    const sim = network()
    const [a, b, c] = await line(sim)
    expect(a.socket.peers).not.toContain(c.id)
    // a → c is routed through b (a has no route yet: it floods); c replies along the learned path.
    const replied: unknown[][] = []
    a.socket.on('message', (m) => m.type === 'whisper' && replied.push(m.payload))
    c.socket.registerHandler((m) => {
      if (m.payload[0] === 'ping?') void m.reply('pong!', m.sender)
      return false
    })
    await a.socket.whisper(c.id, 'ping?')
    expect(await sim.runUntil(() => replied.length === 1)).toBe(true)
    expect(replied[0]).toEqual(['pong!', a.id])
    expect(c.messages[0]).toMatchObject({ type: 'whisper', sender: a.id, payload: ['ping?'] })
    expect(b.messages).toHaveLength(0) // relays do not deliver
    // Direct: b → c, and c's reply goes straight back.
    await b.socket.whisper(c.id, 'direct')
    expect(await sim.runUntil(() => c.messages.length === 2)).toBe(true)
    void c.messages[1]!.reply('back')
    expect(await sim.runUntil(() => b.messages.some((m) => m.payload[0] === 'back'))).toBe(true)
  })

  it('broadcast payloads arrive exactly as sent; repeats in the same second are not lost', async () => {
    const sim = network()
    const [a, b, c] = await line(sim)
    const payload = ['hello', 42, new Uint8Array([1, 2]), { nested: [true, null] }, 2n ** 60n]
    await a.socket.send(...payload)
    await a.socket.send(...payload) // same body, same second: 0.7 would give it the same id
    expect(await sim.runUntil(() => c.messages.length === 2 && b.messages.length === 2)).toBe(true)
    expect(c.messages[0]!.payload).toEqual(payload)
    expect(c.messages[0]!.id).not.toBe(c.messages[1]!.id)
    expect(a.messages).toHaveLength(0) // the origin does not deliver to itself
  })

  it('runs handlers in order; the first that returns true consumes; a throwing one is reported', async () => {
    const sim = network()
    const [a, b] = await line(sim)
    const order: string[] = []
    const errors: P2PError[] = []
    b.socket.on('error', (e) => errors.push(e))
    b.socket.registerHandler(() => {
      order.push('first')
      throw new Error('boom')
    })
    const off = b.socket.registerHandler((m) => {
      order.push('second')
      return m.payload[0] === 'mine'
    })
    b.socket.registerHandler(() => void order.push('third'))
    await a.socket.send('mine')
    await a.socket.send('yours')
    expect(await sim.runUntil(() => order.length === 5)).toBe(true)
    expect(order).toEqual(['first', 'second', 'first', 'second', 'third'])
    expect(errors.map((e) => e.code)).toEqual(['HANDLER_FAILED', 'HANDLER_FAILED'])
    expect(b.messages.map((m) => m.payload[0])).toEqual(['yours']) // consumed ones are not emitted
    expect(b.socket.recv(10)).toEqual([]) // a 'message' listener took it: nothing waits in recv()
    off()
    expect(b.socket.peers).toContain(a.id) // the link survived
  })

  it('without a message listener, messages wait in a bounded recv() queue', async () => {
    const sim = network()
    const a = await simMeshNode(sim, [])
    const b = await simMeshNode(sim, [a.id], { maxQueuedMessages: 3 }, false)
    expect(await sim.runUntil(() => a.socket.peers.length === 1)).toBe(true)
    for (let i = 0; i < 5; i++) await a.socket.send(i)
    expect(await sim.runUntil(() => b.socket.stats.delivered === 5)).toBe(true)
    expect(b.socket.stats.recvDropped).toBe(2)
    expect(b.socket.recv(2).map((m) => m.payload[0])).toEqual([2, 3])
    expect(b.socket.recv(5).map((m) => m.payload[0])).toEqual([4])
    expect(b.socket.recv()).toEqual([])
  })

  it('refuses peers of another subnet on both sides, and reports it', async () => {
    const sim = network()
    const a = await simMeshNode(sim, [], { subnet: 'one' })
    const b = await simMeshNode(sim, [a.id], { subnet: 'two' })
    const errors: P2PError[] = []
    a.socket.on('error', (e) => errors.push(e))
    b.socket.on('error', (e) => errors.push(e))
    expect(await sim.runUntil(() => errors.length >= 2)).toBe(true)
    expect(errors.map((e) => e.code)).toEqual(['SUBNET_MISMATCH', 'SUBNET_MISMATCH'])
    expect(a.socket.peers).toEqual([])
    expect(b.socket.peers).toEqual([])
  })

  it('keeps one link when two nodes dial each other at once', async () => {
    const sim = network(11)
    const a = await simMeshNode(sim, [])
    const b = await simMeshNode(sim, [a.id])
    // a learns of b at the same moment b dials a.
    const c = await simMeshNode(sim, [a.id, b.id])
    expect(await sim.runUntil(() => a.socket.peers.length === 2 && b.socket.peers.length === 2 && c.socket.peers.length === 2)).toBe(true)
    await sim.runFor(5_000)
    for (const n of [a, b, c]) expect(new Set(n.socket.peers).size).toBe(n.socket.peers.length)
    expect(a.socket.peers.sort()).toEqual([b.id, c.id].sort())
  })

  it('detects a silent peer with keepalives (PEER_TIMEOUT) and reports it as peer-left', async () => {
    const sim = network()
    const a = await simMeshNode(sim, [], { keepaliveMs: 1_000, peerTimeoutMs: 3_000 })
    const mute = await rawPeer(sim, a, a.socket.protocolId)
    await mute.handshake()
    expect(await sim.runUntil(() => a.socket.peers.includes(mute.id))).toBe(true)
    const left: [string, P2PError | undefined][] = []
    a.socket.on('peer-left', (id, reason) => left.push([id, reason]))
    expect(await sim.runUntil(() => left.length === 1, 100_000)).toBe(true)
    expect(left[0]![0]).toBe(mute.id)
    expect(left[0]![1]).toMatchObject({ code: 'PEER_TIMEOUT' })
    expect(mute.received.some((r) => r.frame.type === FLAGS.ping)).toBe(true) // it was pinged first
  })

  it('does not drop peers for a silence that was its own stalled thread (keepalive stall guard)', async () => {
    const sim = network()
    // b's clock can jump: as if its page froze for a minute (a huge decode, a background tab).
    let frozenFor = 0
    const b = await simMeshNode(sim, [], { keepaliveMs: 1_000, peerTimeoutMs: 3_000 }, true, (clock) => ({
      now: () => clock.now() + frozenFor,
      setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
      clearTimeout: (handle) => clock.clearTimeout(handle),
    }))
    // A peer that never speaks first but answers every ping.
    const quiet = await rawPeer(sim, b, b.socket.protocolId, { answerPings: true })
    await quiet.handshake()
    expect(await sim.runUntil(() => b.socket.peers.includes(quiet.id))).toBe(true)
    const left: string[] = []
    b.socket.on('peer-left', (id) => left.push(id))
    await sim.runFor(9_500) // pinged every second and answering: kept (and no pong in flight now)
    expect(left).toEqual([])
    frozenFor = 60_000
    // The next keepalive round runs 60 s "late" and sees the peer silent for 60 s: it pings
    // instead of dropping, the pong comes back, and the rounds after find the peer alive.
    await sim.runFor(10_000)
    expect(left).toEqual([])
    expect(b.socket.peers).toContain(quiet.id)
  })

  it('hostile input on a live link: named errors, the node stays up, the documented policy applies', async () => {
    const sim = network()
    const [a, b] = await line(sim)
    const evil = await rawPeer(sim, b, b.socket.protocolId)
    await evil.handshake()
    expect(await sim.runUntil(() => b.socket.peers.includes(evil.id))).toBe(true)
    const errors: P2PError[] = []
    b.socket.on('error', (e) => errors.push(e))
    // Garbage bytes, a wrong checksum, a frame with a spoofed direct-whisper sender.
    await evil.link.send(new Uint8Array([1, 2, 3]))
    const good = await evil.frame({ kind: 'broadcast', payload: ['x'] }, { sign: 'self', time: simSeconds(sim) })
    const corrupt = good.slice()
    corrupt[corrupt.length - 1]! ^= 0xff
    await evil.link.send(corrupt)
    await evil.link.send(await evil.frame({ kind: 'whisper', payload: ['spoof'] }, { sender: a.id }))
    // A flood of duplicates: delivered once, the copies counted.
    for (let i = 0; i < 50; i++) await evil.link.send(good)
    expect(await sim.runUntil(() => errors.length >= 3 && b.socket.stats.duplicates >= 49)).toBe(true)
    expect(errors.map((e) => e.code)).toEqual(['BAD_FRAME', 'BAD_FRAME', 'FORGED'])
    expect(errors.every((e) => e instanceof MeshError && e.peerId === evil.id)).toBe(true)
    expect(b.messages.filter((m) => m.payload[0] === 'x')).toHaveLength(1)
    expect(b.messages.some((m) => m.payload[0] === 'spoof')).toBe(false)
    // An oversize frame (announced 4 GiB): the link is closed at once.
    await evil.link.send(frameBody(new Uint8Array(8)).map((v, i) => (i < 4 ? 0xff : v)))
    expect(await sim.runUntil(() => evil.closed !== undefined)).toBe(true)
    expect(evil.closed?.reason).toMatchObject({ code: 'LINK_CLOSED' })
    expect(errors.at(-1)).toMatchObject({ code: 'BAD_FRAME' })
    // The honest link is untouched and still carries traffic.
    await a.socket.send('still here')
    expect(await sim.runUntil(() => b.messages.some((m) => m.payload[0] === 'still here'))).toBe(true)
  })

  it('closes a link past maxBadFrames', async () => {
    const sim = network()
    const a = await simMeshNode(sim, [], { maxBadFrames: 3 })
    const evil = await rawPeer(sim, a, a.socket.protocolId)
    await evil.handshake()
    expect(await sim.runUntil(() => a.socket.peers.includes(evil.id))).toBe(true)
    for (let i = 0; i < 4; i++) await evil.link.send(new Uint8Array([0, 0, 0, 1, 9]))
    expect(await sim.runUntil(() => evil.closed !== undefined)).toBe(true)
    expect(await sim.runUntil(() => a.socket.peers.length === 0)).toBe(true)
  })

  it('validates arguments and refuses use after close', async () => {
    const sim = network()
    const a = await simMeshNode(sim, [])
    let ready = false
    void a.socket.ready().then(() => (ready = true))
    await sim.runUntil(() => ready)
    expect(() => a.socket.send(() => 1)).toThrow(expect.objectContaining({ code: 'INVALID_PAYLOAD' }))
    expect(() => a.socket.whisper('', 'x')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => a.socket.whisper('not base58!', 'x')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => a.socket.whisper(a.id, 'x')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => a.socket.connect('0OIl')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => a.socket.send(new Uint8Array(17 * 1024 * 1024))).toThrow(expect.objectContaining({ code: 'FRAME_TOO_LARGE' }))
    expect(() => new MeshSocket({})).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' })) // no network
    expect(() => new PublicMeshSocket({})).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' })) // no signaling URL
    expect(() => new PublicMeshSocket({ signaling: 'http://127.0.0.1:1', maxOutgoing: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    let closed = false
    void a.socket.close().then(() => (closed = true))
    expect(await sim.runUntil(() => closed)).toBe(true)
    await a.socket.close()
    expect(() => a.socket.send('x')).toThrow(expect.objectContaining({ code: 'MESH_CLOSED' }))
  })
})
