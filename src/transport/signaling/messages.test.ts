import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { protocolId } from '../../wire/ids.js'
import { fromBase64url, toBase64url } from './base64url.js'
import { signalingEndpoints } from './challenge.js'
import { decodeServerMessage, parseIceServers, relayTypeOf } from './messages.js'
import { CLOSE_CODES, REFUSAL_REASONS, errorCodeForReason, reasonForCloseCode } from './protocol.js'

const NET = protocolId('messages-test', 'webrtc')
const PEER = protocolId('another', 'webrtc')
const decode = (value: unknown, max = 4096) => decodeServerMessage(typeof value === 'string' ? value : JSON.stringify(value), max)

const welcome = { id: PEER, net: NET, peers: [NET], iceServers: [], heartbeatMs: 20_000, maxMessageBytes: 65_536 }

describe('base64url', () => {
  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        expect(fromBase64url(toBase64url(bytes))).toEqual(bytes)
      }),
    )
    expect(toBase64url(new Uint8Array([0xfb, 0xff]))).toBe('-_8')
  })

  it('refuses padding, other alphabets, impossible lengths and non-canonical tails', () => {
    for (const bad of ['-_8=', '+/8', 'A', 'AB C', 'AB\n', 'AR']) expect(fromBase64url(bad), bad).toBeUndefined()
    expect(fromBase64url('AQ')).toEqual(new Uint8Array([1]))
  })
})

describe('relayTypeOf', () => {
  it('maps simple-peer signals onto PeerJS types', () => {
    expect(relayTypeOf({ type: 'offer', sdp: '' })).toBe('OFFER')
    expect(relayTypeOf({ type: 'answer', sdp: '' })).toBe('ANSWER')
    expect(relayTypeOf({ type: 'candidate', candidate: {} })).toBe('CANDIDATE')
    expect(relayTypeOf({ type: 'renegotiate', renegotiate: true })).toBe('CANDIDATE')
    expect(relayTypeOf({ type: 'transceiverRequest', transceiverRequest: { kind: 'audio' } })).toBe('CANDIDATE')
    // The WebRTC transport's envelope { v, s, d }: the signal is d.
    expect(relayTypeOf({ v: 1, s: 'x', d: { type: 'offer', sdp: '' } })).toBe('OFFER')
    expect(relayTypeOf({ v: 1, s: 'x', d: { type: 'answer', sdp: '' } })).toBe('ANSWER')
    expect(relayTypeOf({ v: 1, s: 'x', d: { type: 'candidate', candidate: {} } })).toBe('CANDIDATE')
    expect(relayTypeOf({})).toBe('CANDIDATE')
    for (const bad of [null, undefined, 'offer', 42, [], [{ type: 'offer' }]]) expect(relayTypeOf(bad)).toBeUndefined()
  })
})

describe('parseIceServers', () => {
  it('keeps well-formed STUN/TURN entries and refuses anything else', () => {
    const ok = [{ urls: 'stun:stun.example.test' }, { urls: ['turns:turn.example.test:443'], username: 'u', credential: 'p' }]
    expect(parseIceServers(ok)).toEqual(ok)
    expect(parseIceServers([{ urls: 'stun:a', extra: 'dropped' }])).toEqual([{ urls: 'stun:a' }])
    for (const bad of [
      null,
      {},
      [null],
      [{}],
      [{ urls: 'https://example.test' }],
      [{ urls: [] }],
      [{ urls: 'stun:a', username: 7 }],
      [{ urls: `stun:${'a'.repeat(600)}` }],
      Array.from({ length: 17 }, () => ({ urls: 'stun:a' })),
    ]) {
      expect(parseIceServers(bad), JSON.stringify(bad)?.slice(0, 60)).toBeUndefined()
    }
  })
})

describe('decodeServerMessage', () => {
  it('decodes the messages a client expects', () => {
    expect(decode({ type: 'OPEN' })).toEqual({ type: 'OPEN' })
    expect(decode({ type: 'P2P-WELCOME', payload: welcome })).toEqual({ type: 'WELCOME', ...welcome })
    expect(decode({ type: 'P2P-PEERS', payload: { seq: 3, peers: [PEER, PEER] } })).toEqual({ type: 'PEERS', seq: 3, peers: [PEER] })
    expect(decode({ type: 'OFFER', src: PEER, dst: NET, payload: { type: 'offer', sdp: 's' } })).toEqual({
      type: 'SIGNAL',
      relay: 'OFFER',
      from: PEER,
      signal: { type: 'offer', sdp: 's' },
    })
    expect(decode({ type: 'ERROR', payload: { msg: 'm', reason: 'UNKNOWN_PEER', seq: 2, dst: PEER } })).toEqual({
      type: 'REFUSED',
      idTaken: false,
      reason: 'UNKNOWN_PEER',
      msg: 'm',
      seq: 2,
      dst: PEER,
    })
    // PeerJS's own shapes: ID-TAKEN and ERROR with only a msg.
    expect(decode({ type: 'ID-TAKEN', payload: { msg: 'ID is taken' } })).toMatchObject({ type: 'REFUSED', idTaken: true, reason: 'ID_TAKEN' })
    expect(decode({ type: 'ERROR', payload: { msg: 'Invalid key provided' } })).toMatchObject({ type: 'REFUSED', reason: undefined })
    expect(decode({ type: 'EXPIRE', src: PEER, dst: NET })).toEqual({ type: 'PEER_GONE', peer: PEER })
    expect(decode({ type: 'SOMETHING-NEW', payload: {} })).toEqual({ type: 'IGNORED' })
  })

  it.each([
    ['a binary frame', new Uint8Array([123, 125])],
    ['not JSON', '{'],
    ['an array', '[]'],
    ['no type', '{}'],
    ['an oversize frame', JSON.stringify({ type: 'OPEN', pad: 'x'.repeat(5000) })],
    ['a WELCOME without payload', { type: 'P2P-WELCOME' }],
    ['a WELCOME with a bad id', { type: 'P2P-WELCOME', payload: { ...welcome, id: 'no/slash' } }],
    ['a WELCOME with bad ICE servers', { type: 'P2P-WELCOME', payload: { ...welcome, iceServers: [{ urls: 'http://x' }] } }],
    ['a WELCOME with a silly heartbeat', { type: 'P2P-WELCOME', payload: { ...welcome, heartbeatMs: 0 } }],
    ['a WELCOME with too many peers', { type: 'P2P-WELCOME', payload: { ...welcome, peers: Array(300).fill(PEER) } }],
    ['PEERS with a bad id', { type: 'P2P-PEERS', payload: { seq: 1, peers: [42] } }],
    ['a signal without src', { type: 'OFFER', payload: { type: 'offer', sdp: '' } }],
    ['a signal with an array payload', { type: 'ANSWER', src: PEER, payload: [{ type: 'answer', sdp: '' }] }],
    ['a signal with a string payload', { type: 'CANDIDATE', src: PEER, payload: 'x' }],
    ['a signal without payload', { type: 'CANDIDATE', src: PEER }],
    ['a LEAVE without src', { type: 'LEAVE' }],
  ])('refuses %s', (_name, value) => {
    const data = value instanceof Uint8Array ? value : typeof value === 'string' ? value : JSON.stringify(value)
    expect(decodeServerMessage(data, 4096).type).toBe('INVALID')
  })
})

describe('protocol tables', () => {
  it('maps every refusal reason to a close code and back, and to an error code', () => {
    for (const reason of REFUSAL_REASONS) {
      expect(reasonForCloseCode(CLOSE_CODES[reason])).toBe(reason)
      expect(errorCodeForReason(reason)).toMatch(/^[A-Z_]+$/)
    }
    expect(new Set(Object.values(CLOSE_CODES)).size).toBe(REFUSAL_REASONS.length)
    expect(errorCodeForReason('STALE_NONCE')).toBe('AUTH_FAILED')
    expect(errorCodeForReason('ID_TAKEN')).toBe('ID_TAKEN')
    expect(errorCodeForReason('SERVER_FULL')).toBe('SIGNALING_REFUSED')
    expect(errorCodeForReason(undefined)).toBe('SIGNALING_REFUSED')
    expect(reasonForCloseCode(1000)).toBeUndefined()
  })

  it('derives both endpoints from the configured URL', () => {
    const plain = signalingEndpoints('http://127.0.0.1:9000')
    expect(plain.challenge.href).toBe('http://127.0.0.1:9000/p2p/challenge')
    expect(plain.socket.href).toBe('ws://127.0.0.1:9000/peerjs')
    const proxied = signalingEndpoints('wss://signal.example.test/prefix?x=1#y')
    expect(proxied.challenge.href).toBe('https://signal.example.test/prefix/p2p/challenge')
    expect(proxied.socket.href).toBe('wss://signal.example.test/prefix/peerjs')
    expect(() => signalingEndpoints('not a url')).toThrow(expect.objectContaining({ code: 'SIGNALING_UNREACHABLE' }))
    expect(() => signalingEndpoints('ftp://example.test')).toThrow(expect.objectContaining({ code: 'SIGNALING_UNREACHABLE' }))
  })
})
