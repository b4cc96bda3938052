import { describe, expect, it } from 'vitest'
import { CLOSE_CODES, CLOSE_REPLACED } from '../src/transport/signaling/protocol.js'
import { protocolId } from '../src/wire/ids.js'
import { SignalingHub, type Admission, type HubSocket } from './hub.js'
import { resolveOptions, type SignalingServerOptions } from './options.js'

/**
 * The hub's session rules without sockets or PeerJS: takeover of a live id, and that nothing
 * the replaced socket does afterwards (frames, its late close) touches the new session.
 */
const NET_A = protocolId('hub-test-a', 'webrtc')
const NET_B = protocolId('hub-test-b', 'webrtc')
const ALICE = protocolId('alice', 'id')
const BOB = protocolId('bob', 'id')
const CAROL = protocolId('carol', 'id')

class FakeSocket implements HubSocket {
  readyState = 1
  readonly sent: Record<string, unknown>[] = []
  closed: { code: number | undefined; reason: string | undefined } | undefined
  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>)
  }
  close(code?: number, reason?: string): void {
    this.closed ??= { code, reason }
    this.readyState = 2
  }
  types(): unknown[] {
    return this.sent.map((m) => m.type)
  }
}

function hub(options: SignalingServerOptions = {}): SignalingHub {
  return new SignalingHub(resolveOptions(options), { now: () => 0, random: () => 0, log: () => {} })
}

const admitted = (id: string, net = NET_A, ip = '10.0.0.1'): Admission => ({ ok: true, id, net, ip })
const frame = (message: unknown): string => JSON.stringify(message)
const offerTo = (dst: string): string => frame({ type: 'OFFER', dst, payload: { type: 'offer', sdp: 'v=0' } })

/** Admits and welcomes a fresh socket; undefined if refused. */
function join(h: SignalingHub, admission: Admission): FakeSocket {
  const socket = new FakeSocket()
  if (h.admit(socket, admission) !== undefined) h.welcome(socket)
  return socket
}

describe('SignalingHub takeover', () => {
  it('a new registration of a live id in its subnet replaces the session: old socket closed with REPLACED', () => {
    const h = hub()
    const old = join(h, admitted(ALICE))
    expect(old.types()).toEqual(['P2P-WELCOME'])
    const peer = join(h, admitted(BOB))
    const fresh = join(h, admitted(ALICE))
    expect(old.closed).toEqual({ code: CLOSE_REPLACED, reason: 'REPLACED' })
    expect(old.types()).toEqual(['P2P-WELCOME'])
    // PeerJS swaps sockets without OPEN on a takeover: the hub sends it, then the welcome.
    expect(fresh.types()).toEqual(['OPEN', 'P2P-WELCOME'])
    expect(fresh.sent[1]).toMatchObject({ payload: { id: ALICE, net: NET_A, peers: [BOB] } })
    expect(h.size).toBe(2)
    expect(h.gate(peer, offerTo(ALICE), false)).toBe(offerTo(ALICE))
  })

  it("the replaced socket's frames are dropped and its late close does not unregister the new session", () => {
    const h = hub()
    const old = join(h, admitted(ALICE))
    const peer = join(h, admitted(BOB))
    const fresh = join(h, admitted(ALICE))
    expect(h.gate(old, frame({ type: 'HEARTBEAT' }), false)).toBeUndefined()
    expect(h.gate(old, offerTo(BOB), false)).toBeUndefined()
    expect(h.gate(old, frame({ type: 'P2P-DISCOVER' }), false)).toBeUndefined()
    old.readyState = 3
    h.release(old)
    h.expire(ALICE)
    expect(h.size).toBe(2)
    expect(h.gate(peer, offerTo(ALICE), false)).toBe(offerTo(ALICE))
    expect(h.gate(peer, frame({ type: 'P2P-DISCOVER' }), false)).toBeUndefined()
    expect(peer.sent.at(-1)).toMatchObject({ type: 'P2P-PEERS', payload: { peers: [ALICE] } })
    // The new session is served, and counts its frames from 1.
    expect(h.gate(fresh, frame({ type: 'P2P-DISCOVER' }), false)).toBeUndefined()
    expect(fresh.sent.at(-1)).toMatchObject({ type: 'P2P-PEERS', payload: { seq: 1, peers: [BOB] } })
    // Its own close does free the id.
    h.release(fresh)
    expect(h.size).toBe(1)
    expect(h.gate(peer, offerTo(ALICE), false)).toBeUndefined()
  })

  it('refuses a live id in another subnet (ID_TAKEN) and leaves the live session alone', () => {
    const h = hub()
    const live = join(h, admitted(ALICE, NET_A))
    const other = join(h, admitted(ALICE, NET_B))
    expect(other.types()).toEqual(['ID-TAKEN'])
    expect(other.closed?.code).toBe(CLOSE_CODES.ID_TAKEN)
    expect(live.closed).toBeUndefined()
    expect(h.size).toBe(1)
  })

  it('a takeover needs no free slot: it frees its own, server-wide and per IP', () => {
    const h = hub({ maxClients: 2, maxClientsPerIp: 1 })
    const old = join(h, admitted(ALICE, NET_A, '10.0.0.1'))
    join(h, admitted(BOB, NET_A, '10.0.0.2'))
    // Full, and 10.0.0.1 is at its cap: a takeover from there, or from a third address, is fine.
    const fresh = join(h, admitted(ALICE, NET_A, '10.0.0.1'))
    expect(old.closed?.code).toBe(CLOSE_REPLACED)
    expect(fresh.types()).toEqual(['OPEN', 'P2P-WELCOME'])
    const moved = join(h, admitted(ALICE, NET_A, '10.0.0.3'))
    expect(fresh.closed?.code).toBe(CLOSE_REPLACED)
    expect(moved.types()).toEqual(['OPEN', 'P2P-WELCOME'])
    // The slot of 10.0.0.1 went with it; the server is still full for a new id.
    expect(join(h, admitted(CAROL, NET_A, '10.0.0.1')).sent[0]).toMatchObject({ payload: { reason: 'SERVER_FULL' } })
    expect(h.size).toBe(2)
  })
})
