import { getPublicKey, sign } from '@noble/ed25519'
import { describe, expect, it } from 'vitest'
import { thrownCode } from '../testing/thrown-code.js'
import {
  AUTH_KIND,
  AUTH_OVERHEAD,
  ID_BYTES,
  LEN_BYTES,
  SignatureVerifier,
  decodeFrame,
  encodeBody,
  encodeFrame,
  frameBody,
  handshakeInput,
  nodeIdFromPublicKey,
  protocolId,
  signedProtocolId,
  signingInput,
  type FrameMessage,
} from './index.js'
import { Identity } from './identity.js'

const seed = new Uint8Array(32).fill(7)
const publicKey = getPublicKey(seed)
const sender = nodeIdFromPublicKey(publicKey)
const pid = signedProtocolId('demo', 'webrtc')
const msg: FrameMessage = { type: 0x00, sender, time: 1_500_000_000, payload: [0x00, 'hello', 42] }

function signedFrame(m: FrameMessage = msg): Uint8Array {
  const unsigned = encodeBody(m, { variant: 'signed' })
  const id = unsigned.subarray(0, ID_BYTES)
  const signature = sign(signingInput(pid, id), seed)
  return frameBody(encodeBody(m, { variant: 'signed', auth: { publicKey, signature } }))
}

describe('the signed frame variant', () => {
  it('has its own protocol ids', () => {
    expect(pid).not.toBe(protocolId('demo', 'webrtc'))
    expect(pid).toBe(protocolId('demo', 'webrtc+ed25519'))
  })

  it('link-authenticated frames add one byte; signed ones add a key and a signature', () => {
    const plain = encodeFrame(msg)
    const link = encodeFrame(msg, { variant: 'signed' })
    const signed = signedFrame()
    expect(link.length - plain.length).toBe(AUTH_OVERHEAD.link)
    expect(signed.length - plain.length).toBe(AUTH_OVERHEAD.ed25519)
    expect(link[LEN_BYTES + ID_BYTES]).toBe(AUTH_KIND.link)
    expect(signed[LEN_BYTES + ID_BYTES]).toBe(AUTH_KIND.ed25519)
    // The id is SHA-256(P) in all three: the same message has the same id in both variants.
    expect(link.subarray(LEN_BYTES, LEN_BYTES + ID_BYTES)).toEqual(plain.subarray(LEN_BYTES, LEN_BYTES + ID_BYTES))
  })

  it('decodes the authentication block, and the signature verifies', async () => {
    const decoded = decodeFrame(signedFrame(), { variant: 'signed' })
    expect(decoded.payload).toEqual(msg.payload)
    expect(decoded.auth?.publicKey).toEqual(publicKey)
    const verifier = new SignatureVerifier({ backend: 'noble' })
    expect(verifier.idMatches(decoded.auth!.publicKey, decoded.sender)).toBe(true)
    expect(verifier.verify(decoded.auth!.publicKey, signingInput(pid, decoded.id), decoded.auth!.signature)).toBe(true)
    // Another subnet's protocol id: the signature is worth nothing there.
    expect(verifier.verify(decoded.auth!.publicKey, signingInput(signedProtocolId('other', 'webrtc'), decoded.id), decoded.auth!.signature)).toBe(false)
    expect(decodeFrame(encodeFrame(msg, { variant: 'signed' }), { variant: 'signed' }).auth).toBeUndefined()
  })

  it('WebCrypto and noble verifiers agree', async () => {
    const decoded = decodeFrame(signedFrame(), { variant: 'signed' })
    const input = signingInput(pid, decoded.id)
    const bad = decoded.auth!.signature.slice()
    bad[0]! ^= 1
    for (const backend of ['webcrypto', 'noble'] as const) {
      const v = new SignatureVerifier({ backend })
      expect(await v.verify(decoded.auth!.publicKey, input, decoded.auth!.signature)).toBe(true)
      expect(await v.verify(decoded.auth!.publicKey, input, bad)).toBe(false)
      expect(await v.verify(new Uint8Array(32), input, decoded.auth!.signature)).toBe(false)
      expect(await v.verify(decoded.auth!.publicKey.subarray(1), input, decoded.auth!.signature)).toBe(false)
    }
    const identity = await Identity.generate({ backend: 'webcrypto' })
    const signature = await identity.sign(input)
    expect(new SignatureVerifier({ backend: 'noble' }).verify(identity.publicKey, input, signature)).toBe(true)
  })

  it('refuses an unknown authentication byte with FRAME_AUTH, and a 0.7 decoder cannot read it', () => {
    const frame = signedFrame()
    const wrongKind = frame.slice()
    wrongKind[LEN_BYTES + ID_BYTES] = 7
    expect(thrownCode(() => decodeFrame(wrongKind, { variant: 'signed' }))).toBe('FRAME_AUTH')
    expect(thrownCode(() => decodeFrame(frame))).toBe('FRAME_CHECKSUM')
    expect(thrownCode(() => decodeFrame(encodeFrame(msg), { variant: 'signed' }))).toMatch(/^FRAME_(AUTH|CHECKSUM|TRUNCATED)$/)
  })

  it('an altered signed message fails its checksum or its signature', () => {
    const verifier = new SignatureVerifier({ backend: 'noble' })
    const frame = signedFrame()
    // Swap P for another message's, keeping the signature: the id changes, so the signature fails.
    const other = encodeBody({ ...msg, payload: [0x00, 'forged'] }, { variant: 'signed', auth: decodeFrame(frame, { variant: 'signed' }).auth! })
    const decoded = decodeFrame(frameBody(other), { variant: 'signed' })
    expect(verifier.verify(decoded.auth!.publicKey, signingInput(pid, decoded.id), decoded.auth!.signature)).toBe(false)
  })

  it('handshake inputs differ by direction and by nonce', () => {
    const n1 = new Uint8Array(32).fill(1)
    const n2 = new Uint8Array(32).fill(2)
    expect(handshakeInput(pid, 'A', 'B', n1, n2)).not.toEqual(handshakeInput(pid, 'B', 'A', n2, n1))
    expect(handshakeInput(pid, 'A', 'B', n1, n2)).not.toEqual(handshakeInput(pid, 'A', 'B', n1, n1))
  })
})
