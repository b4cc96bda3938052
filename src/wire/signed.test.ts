import { Point, getPublicKey, sign, utils, verify } from '@noble/ed25519'
import { sha512 } from '@noble/hashes/sha2.js'
import { concatBytes, utf8 } from '../util/bytes.js'
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
import { Identity, isUsablePublicKey, verifySignature } from './identity.js'

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

describe('both signature backends accept exactly the same signatures', () => {
  const hex = (h: string): Uint8Array => Uint8Array.from(h.match(/../g)!.map((b) => parseInt(b, 16)))
  const L = Point.CURVE().n
  const le = (n: bigint): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn))
  const fromLe = (b: Uint8Array): bigint => b.reduceRight((acc, byte) => (acc << 8n) | BigInt(byte), 0n)
  const message = utf8('any message at all')

  async function verdicts(publicKey: Uint8Array, signature: Uint8Array): Promise<boolean[]> {
    const out: boolean[] = []
    for (const backend of ['webcrypto', 'noble'] as const) {
      out.push(await new SignatureVerifier({ backend }).verify(publicKey, message, signature))
      out.push(await verifySignature(publicKey, message, signature, backend))
    }
    return out
  }

  it('refuses a small-order public key (its "signatures" verify for any message under WebCrypto)', async () => {
    const identityPoint = hex('01' + '00'.repeat(31))
    const signature = concatBytes(identityPoint, new Uint8Array(32)) // R = identity, S = 0
    expect(isUsablePublicKey(identityPoint)).toBe(false)
    expect(await verdicts(identityPoint, signature)).toEqual([false, false, false, false])
    expect(new SignatureVerifier({ backend: 'noble' }).idMatches(identityPoint, nodeIdFromPublicKey(identityPoint))).toBe(false)
  })

  it('refuses an R with a small-order component (noble’s cofactored check alone would accept it)', async () => {
    const seed = new Uint8Array(32).fill(1)
    const { scalar: a, pointBytes: A } = utils.getExtendedPublicKey(seed)
    const torsion = Point.fromBytes(hex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'))
    const r = 123456789n
    const Rbytes = Point.BASE.multiply(r).add(torsion).toBytes()
    const k = fromLe(sha512(concatBytes(Rbytes, A, message))) % L
    const S = (r + k * a) % L
    const signature = concatBytes(Rbytes, le(S))
    expect(verify(signature, message, A)).toBe(true) // noble's default (cofactored) says yes…
    expect(await verdicts(A, signature)).toEqual([false, false, false, false]) // …we all say no
    // The honest signature of the same key still verifies everywhere.
    expect(await verdicts(A, sign(message, seed))).toEqual([true, true, true, true])
  })
})
