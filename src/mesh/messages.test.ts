import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { WireError } from '../errors.js'
import { wireValue } from '../testing/arbitraries.js'
import { FLAGS, decodeFrame, encodeFrame } from '../wire/index.js'
import { meshRegistry } from '../testing/mesh-registry.js'
import { MAX_PEERS_PER_MESSAGE, MESH_FLAGS, decodeMeshMessage, meshFrame, type MeshMessage } from './messages.js'

const A = '6VnYj9LjoVLTvU3uPhy4nxm6yv2wEvhaRtGHeV9wwFngWGGqKAzuZ8jK6gFuvq737V'
const B = '7g4Ru6i6ZExWJpFnD47FUyEjtBks32BzfKjrTZbmaT5Huw1GUuHBjVRTrhGamexqbp'
const NET = 'EpAmyZWv9rZUKmjQgU3FTUD4GrJHvVEXizmghVBc8eGD'

const registry = meshRegistry()
/** Decoded as a plain mesh does, without the claim it was decoded under (compared separately). */
const roundTrip = (m: MeshMessage, sender = A): MeshMessage => {
  const decoded = decodeMeshMessage(decodeFrame(encodeFrame(meshFrame(m, sender, 1))), registry)
  if ('claim' in decoded) {
    const { claim, value, ...rest } = decoded
    expect(claim?.protocol.name).toBe('user')
    expect(value).toEqual(decoded.payload)
    return rest
  }
  return decoded
}
const USER = { broadcast: 0x00, whisper: 0x02, 'routed-whisper': 0x02 } as const

describe('mesh messages', () => {
  it('round-trip every kind', () => {
    const messages: MeshMessage[] = [
      { kind: 'handshake', id: A, protocolId: NET, compressions: [0x13, 0x11] },
      { kind: 'peers', peers: [A, B] },
      { kind: 'peers-request' },
      { kind: 'ping', nonce: 7 },
      { kind: 'pong', nonce: 7 },
      { kind: 'broadcast', payload: ['hello', 42] },
      { kind: 'whisper', payload: [new Uint8Array([1])] },
      { kind: 'routed-whisper', target: B, payload: ['hi'] },
      { kind: 'routed-signal', target: B, blob: { v: 1, s: 'x', d: { type: 'offer', sdp: 'v=0' } } },
    ]
    for (const m of messages) expect(roundTrip(m)).toEqual('payload' in m ? { ...m, sub: USER[m.kind] } : m)
  })

  it('user payloads round-trip whatever they hold', () => {
    fc.assert(
      fc.property(fc.array(wireValue, { maxLength: 5 }), (payload) => {
        expect(roundTrip({ kind: 'broadcast', payload })).toEqual({ kind: 'broadcast', sub: 0x00, payload })
        expect(roundTrip({ kind: 'routed-whisper', target: B, payload })).toEqual({ kind: 'routed-whisper', sub: 0x02, target: B, payload })
      }),
    )
  })

  it('keeps the 0.7 handshake and peers shapes', () => {
    const hs = meshFrame({ kind: 'handshake', id: A, protocolId: NET, compressions: [0x13] }, A, 1)
    expect(hs.payload).toEqual([FLAGS.handshake, A, NET, [], [0x13]])
    const peers = meshFrame({ kind: 'peers', peers: [B] }, A, 1)
    expect(peers.payload).toEqual([FLAGS.peers, [[[], B]]])
  })

  it('refuses malformed messages with FRAME_SHAPE', () => {
    const frame = (type: number, payload: unknown[], sender = A) => decodeFrame(encodeFrame({ type, sender, time: 1, payload }))
    const cases = [
      frame(FLAGS.broadcast, [FLAGS.whisper, 'x']),
      frame(FLAGS.whisper, [0x29]),
      frame(FLAGS.whisper, [FLAGS.handshake, B, NET, [], []]), // id differs from the frame's sender
      frame(FLAGS.whisper, [FLAGS.handshake, A, 'not b58!', [], []]),
      frame(FLAGS.whisper, [FLAGS.peers, 'nope']),
      frame(FLAGS.whisper, [FLAGS.peers, [[[], 'bad id!']]]),
      frame(FLAGS.whisper, [FLAGS.peers, new Array(MAX_PEERS_PER_MESSAGE + 1).fill([[], B])]),
      frame(FLAGS.ping, [FLAGS.ping, -1]),
      frame(FLAGS.ping, [FLAGS.pong, 1]),
      frame(FLAGS.forward, [FLAGS.whisper, 'bad target!']),
      frame(FLAGS.forward, [MESH_FLAGS.signal, B, 'not an object']),
      frame(FLAGS.forward, [FLAGS.broadcast, B]),
      frame(0x40, [0x40]),
    ]
    for (const f of cases) expect(() => decodeMeshMessage(f, registry)).toThrow(WireError)
  })

  it('dedupes peer ids and ignores unknown compression methods', () => {
    const f = decodeFrame(encodeFrame({ type: FLAGS.whisper, sender: A, time: 1, payload: [FLAGS.peers, [[[], B], [[], B], [['h', 1], A]]] }))
    expect(decodeMeshMessage(f, registry)).toEqual({ kind: 'peers', peers: [B, A] })
    const hs = decodeFrame(encodeFrame({ type: FLAGS.whisper, sender: A, time: 1, payload: [FLAGS.handshake, A, NET, [], [0x10, 0x13, 'x']] }))
    expect(decodeMeshMessage(hs)).toMatchObject({ compressions: [0x13] })
  })
})
