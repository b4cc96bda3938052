import { readFileSync } from 'node:fs'
import { getPublicKey } from '@noble/ed25519'
import { describe, expect, it } from 'vitest'
import { signedVectorsJson, type SignedFrameVector } from '../testing/signed-vectors.js'
import { thrownCode } from '../testing/thrown-code.js'
import { fromHex, toHex, utf8 } from '../util/bytes.js'
import vectors from './fixtures/vectors-signed-1.json' with { type: 'json' }
import {
  AUTH_OVERHEAD,
  COMPRESSION,
  ID_BYTES,
  Identity,
  LEN_BYTES,
  SignatureVerifier,
  decodeFrame,
  encodeFrame,
  handshakeInput,
  nodeIdFromPublicKey,
  protocolId,
  signedProtocolId,
  signingInput,
  type FrameMessage,
} from './index.js'

// The signed variant's vectors (docs/protocol.md, "Signed frames"). The fixture is built from the
// specification by src/testing/signed-vectors.ts, independently of the codec; here the codec must
// reproduce it byte for byte, and both signature backends must agree with it. In Chromium:
// e2e/wire-lab.spec.ts.
const seed = fromHex(vectors.seed_hex)
const publicKey = fromHex(vectors.public_key_hex)
const sender = vectors.node_id
const pid = vectors.protocol_id
const BACKENDS = ['noble', 'webcrypto'] as const

const FRAMES = [
  { name: 'signed_broadcast_hello', type: 0x00, payload: [0x00, utf8('hello')], compression: undefined },
  { name: 'link_whisper_hi', type: 0x02, payload: [0x02, 'hi'], compression: undefined },
  { name: 'signed_broadcast_hello_zlib', type: 0x00, payload: [0x00, utf8('hello')], compression: COMPRESSION.zlib },
] as const

const identity = (backend: (typeof BACKENDS)[number]): Promise<Identity> => Identity.fromKeyPair({ publicKey, secretKey: seed }, { backend })

describe('signed variant vectors (vectors-signed-1.json)', () => {
  it('the fixture is what src/testing/signed-vectors.ts builds', () => {
    expect(readFileSync(new URL('./fixtures/vectors-signed-1.json', import.meta.url), 'utf8')).toBe(signedVectorsJson())
  })

  it('key, node id and protocol ids', async () => {
    expect(toHex(getPublicKey(seed))).toBe(vectors.public_key_hex)
    expect(nodeIdFromPublicKey(publicKey)).toBe(sender)
    for (const backend of BACKENDS) expect((await identity(backend)).id).toBe(sender)
    expect(signedProtocolId(vectors.subnet, vectors.transport)).toBe(pid)
    expect(protocolId(vectors.subnet, vectors.transport)).toBe(vectors.protocol_id_0_7)
    expect(pid).not.toBe(vectors.protocol_id_0_7)
  })

  for (const { name, type, payload, compression } of FRAMES) {
    const v: SignedFrameVector = vectors.messages[name]
    const msg = (): FrameMessage => ({ type, sender, time: vectors.timestamp, payload: [...payload] })
    const signed = v.auth_kind === 1

    it(`${name}: encodes byte-for-byte${signed ? ', signed by either backend' : ''}`, async () => {
      if (signed) expect(toHex(signingInput(pid, fromHex(v.id_hex)))).toBe(v.signing_input_hex)
      for (const backend of signed ? BACKENDS : (['none'] as const)) {
        let auth: { publicKey: Uint8Array; signature: Uint8Array } | undefined
        if (backend !== 'none') {
          const signature = await (await identity(backend)).sign(fromHex(v.signing_input_hex!))
          expect(toHex(signature), backend).toBe(v.signature_hex) // Ed25519 is deterministic
          auth = { publicKey, signature }
        }
        const frame = encodeFrame(msg(), { variant: 'signed', ...(auth === undefined ? {} : { auth }), ...(compression === undefined ? {} : { compression }) })
        expect(toHex(frame), backend).toBe(v.frame_hex)
        expect(frame.length).toBe(v.frame_len)
      }
    })

    it(`${name}: decodes back, and the signature verifies with both verifier backends`, async () => {
      const decoded = decodeFrame(fromHex(v.frame_hex), { variant: 'signed', ...(compression === undefined ? {} : { compressions: [compression] }) })
      expect({ type: decoded.type, sender: decoded.sender, time: decoded.time, payload: decoded.payload }).toEqual(msg())
      expect(toHex(decoded.id)).toBe(v.id_hex)
      expect(toHex(decoded.body.subarray(decoded.body.length - v.p_hex.length / 2))).toBe(v.p_hex)
      expect(decoded.body[ID_BYTES]).toBe(v.auth_kind)
      if (!signed) {
        expect(decoded.auth).toBeUndefined()
        return
      }
      expect(toHex(decoded.auth!.publicKey)).toBe(vectors.public_key_hex)
      expect(toHex(decoded.auth!.signature)).toBe(v.signature_hex)
      for (const backend of BACKENDS) {
        const verifier = new SignatureVerifier({ backend })
        expect(verifier.idMatches(decoded.auth!.publicKey, decoded.sender), backend).toBe(true)
        expect(await verifier.verify(decoded.auth!.publicKey, signingInput(pid, decoded.id), decoded.auth!.signature), backend).toBe(true)
        // The same signature under the 0.7 protocol id of the same subnet is worth nothing.
        expect(await verifier.verify(decoded.auth!.publicKey, signingInput(vectors.protocol_id_0_7, decoded.id), decoded.auth!.signature), backend).toBe(false)
      }
    })

    it(`${name}: the 0.7 frame of the same message has the same id and ${signed ? AUTH_OVERHEAD.ed25519 : AUTH_OVERHEAD.link} bytes less; neither decoder reads the other`, () => {
      const plain = encodeFrame(msg())
      expect(toHex(plain.subarray(LEN_BYTES, LEN_BYTES + ID_BYTES))).toBe(v.id_hex)
      if (v.frame_len_0_7 !== undefined) {
        expect(plain.length).toBe(v.frame_len_0_7)
        expect(v.frame_len - v.frame_len_0_7).toBe(signed ? AUTH_OVERHEAD.ed25519 : AUTH_OVERHEAD.link)
      }
      expect(thrownCode(() => decodeFrame(fromHex(v.frame_hex), compression === undefined ? {} : { compressions: [compression] }))).toBe('FRAME_CHECKSUM')
      // A 0.7 frame is not a signed one either: its P starts with a fixarray byte, not a known K.
      expect(thrownCode(() => decodeFrame(plain, { variant: 'signed' }))).toBe('FRAME_AUTH')
    })
  }

  it('handshake input for fixed nonces, and its signature', async () => {
    const h = vectors.handshake
    const input = handshakeInput(pid, h.signer_id, h.peer_id, fromHex(h.signer_nonce_hex), fromHex(h.peer_nonce_hex))
    expect(toHex(input)).toBe(h.input_hex)
    for (const backend of BACKENDS) {
      expect(toHex(await (await identity(backend)).sign(input)), backend).toBe(h.signature_hex)
      expect(await new SignatureVerifier({ backend }).verify(publicKey, input, fromHex(h.signature_hex)), backend).toBe(true)
    }
    // Answering the other way round is another input: a signature cannot be reflected.
    expect(toHex(handshakeInput(pid, h.peer_id, h.signer_id, fromHex(h.peer_nonce_hex), fromHex(h.signer_nonce_hex)))).not.toBe(h.input_hex)
  })
})
