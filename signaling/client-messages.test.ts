import { describe, expect, it } from 'vitest'
import { decodeClientMessage, relayFrame } from './client-messages.js'
import { NET_A } from './testing.js'

const dst = NET_A // any base58 id will do
const frame = (value: unknown): Buffer => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value))
const decode = (value: unknown, isBinary = false, max = 1024) => decodeClientMessage(frame(value), isBinary, max)

describe('decodeClientMessage', () => {
  it('decodes heartbeats, discovery and the three relay types', () => {
    expect(decode({ type: 'HEARTBEAT' })).toEqual({ kind: 'heartbeat' })
    expect(decode({ type: 'P2P-DISCOVER' })).toEqual({ kind: 'discover' })
    const offer = { type: 'offer', sdp: 'v=0' }
    expect(decode({ type: 'OFFER', dst, payload: offer })).toEqual({ kind: 'relay', type: 'OFFER', dst, payload: offer })
    expect(decode({ type: 'ANSWER', dst, payload: { type: 'answer', sdp: 'v=0' } })).toMatchObject({ kind: 'relay', type: 'ANSWER' })
    for (const payload of [{ type: 'candidate', candidate: { candidate: 'c' } }, { type: 'renegotiate', renegotiate: true }]) {
      expect(decode({ type: 'CANDIDATE', dst, payload })).toMatchObject({ kind: 'relay', type: 'CANDIDATE', payload })
    }
  })

  it('relays any JSON object payload as is: the receiver validates it', () => {
    const envelope = { v: 1, s: 'session', d: { type: 'offer', sdp: 'v=0' } }
    expect(decode({ type: 'OFFER', dst, payload: envelope })).toEqual({ kind: 'relay', type: 'OFFER', dst, payload: envelope })
    expect(decode({ type: 'CANDIDATE', dst, payload: {} })).toMatchObject({ kind: 'relay', payload: {} })
  })

  it('accepts the other shapes ws delivers', () => {
    const text = JSON.stringify({ type: 'HEARTBEAT' })
    expect(decodeClientMessage([Buffer.from(text.slice(0, 5)), Buffer.from(text.slice(5))], false, 1024)).toEqual({ kind: 'heartbeat' })
    expect(decodeClientMessage(new TextEncoder().encode(text).buffer, false, 1024)).toEqual({ kind: 'heartbeat' })
    expect(decodeClientMessage(42, false, 1024).kind).toBe('invalid')
  })

  it.each([
    ['binary frame', { type: 'HEARTBEAT' }, true],
    ['not JSON', '{"type":', false],
    ['JSON null', 'null', false],
    ['JSON array', '[{"type":"HEARTBEAT"}]', false],
    ['JSON string', '"HEARTBEAT"', false],
    ['no type', { dst }, false],
    ['non-string type', { type: 7 }, false],
    ['unknown type', { type: 'SHOUT' }, false],
    ['LEAVE (server-only)', { type: 'LEAVE', dst }, false],
    ['EXPIRE (server-only)', { type: 'EXPIRE', dst }, false],
    ['ID-TAKEN', { type: 'ID-TAKEN' }, false],
    ['relay without dst', { type: 'OFFER', payload: { type: 'offer', sdp: '' } }, false],
    ['relay with a non-id dst', { type: 'OFFER', dst: '../x', payload: { type: 'offer', sdp: '' } }, false],
    ['relay without payload', { type: 'CANDIDATE', dst }, false],
    ['relay with a string payload', { type: 'CANDIDATE', dst, payload: 'candidate' }, false],
    ['relay with an array payload', { type: 'CANDIDATE', dst, payload: [{ type: 'candidate' }] }, false],
    ['relay with a null payload', { type: 'ANSWER', dst, payload: null }, false],
  ])('refuses %s', (_name, value, isBinary) => {
    expect(decode(value, isBinary).kind).toBe('invalid')
  })

  it('refuses frames over the cap without parsing them', () => {
    const big = { type: 'CANDIDATE', dst, payload: { type: 'candidate', pad: 'x'.repeat(2000) } }
    expect(decode(big, false, 1024)).toEqual({ kind: 'invalid', why: 'message too large' })
    expect(decode(big, false, 4096).kind).toBe('relay')
  })

  it('re-serializes only the routed fields for PeerJS', () => {
    const msg = decode({ type: 'OFFER', dst, payload: { type: 'offer', sdp: 's' }, src: 'spoofed', extra: 1 })
    if (msg.kind !== 'relay') throw new Error('expected a relay message')
    expect(JSON.parse(relayFrame(msg))).toEqual({ type: 'OFFER', dst, payload: { type: 'offer', sdp: 's' } })
  })
})
