import { encode } from '@msgpack/msgpack'
import * as ed from '@noble/ed25519'
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js'
import { deflate } from 'pako'
import { bytesToBigInt, concatBytes, toHex, utf8 } from '../util/bytes.js'
import { b58encode } from '../wire/base58.js'

/**
 * The signed-variant vectors (test-only): src/wire/fixtures/vectors-signed-1.json, built here from
 * the specification (docs/protocol.md, "Signed frames") with msgpack, SHA-2, Ed25519 and zlib
 * directly, not with the codec, so that the fixture test checks the codec against an independent
 * construction. Deterministic: a fixed seed (Ed25519 signatures are deterministic), a fixed time.
 * Regenerate with `npx tsx src/testing/make-vectors.ts`.
 */

ed.hashes.sha512 = sha512

const SEED = new Uint8Array(32).fill(0x01)
/** The peer in the handshake example: the key of 32 bytes of 0x02. */
const PEER_SEED = new Uint8Array(32).fill(0x02)
const TIMESTAMP = 1_500_000_000
const SUBNET = 'demo'
const TRANSPORT = 'webrtc'
const ZLIB = 0x13

const FRAME_CONTEXT = 'p2p-today/1 frame\0'
const HANDSHAKE_CONTEXT = 'p2p-today/1 handshake\0'

const protocolIdOf = (subnet: string, transport: string): string => b58encode(bytesToBigInt(sha256(utf8(subnet + transport + '0.7'))))
const nodeIdOf = (publicKey: Uint8Array): string => b58encode(bytesToBigInt(sha384(publicKey)))
const withLen = (body: Uint8Array): Uint8Array => {
  const len = new Uint8Array(4)
  new DataView(len.buffer).setUint32(0, body.length, false)
  return concatBytes(len, body)
}
const z = (n: number): Uint8Array => Uint8Array.of(n)

export interface SignedFrameVector {
  packets: string
  auth_kind: number
  compression?: number
  p_hex: string
  id_hex: string
  signing_input_hex?: string
  signature_hex?: string
  frame_hex: string
  frame_len: number
  /** Uncompressed vectors: the length of the same message as a 0.7 frame (same P, same id). */
  frame_len_0_7?: number
}

export interface SignedVectors {
  about: string
  variant: 'signed'
  seed_hex: string
  public_key_hex: string
  node_id: string
  subnet: string
  transport: string
  timestamp: number
  protocol_id: string
  protocol_id_0_7: string
  messages: Record<'signed_broadcast_hello' | 'link_whisper_hi' | 'signed_broadcast_hello_zlib', SignedFrameVector>
  handshake: {
    signer_id: string
    peer_id: string
    signer_nonce_hex: string
    peer_nonce_hex: string
    input_hex: string
    signature_hex: string
  }
}

export function buildSignedVectors(): SignedVectors {
  const publicKey = ed.getPublicKey(SEED)
  const sender = nodeIdOf(publicKey)
  const pid = protocolIdOf(SUBNET, TRANSPORT + '+ed25519')

  const frame = (packets: string, p: Uint8Array, signed: boolean, compression?: number): SignedFrameVector => {
    const id = sha256(p)
    const v: Partial<SignedFrameVector> = { packets, auth_kind: signed ? 1 : 0 }
    if (compression !== undefined) v.compression = compression
    let auth = z(0x00)
    if (signed) {
      const input = concatBytes(utf8(FRAME_CONTEXT), utf8(pid), z(0), id)
      const signature = ed.sign(input, SEED)
      auth = concatBytes(z(0x01), publicKey, signature)
      v.signing_input_hex = toHex(input)
      v.signature_hex = toHex(signature)
    }
    const body = concatBytes(id, auth, p)
    const bytes = withLen(compression === undefined ? body : deflate(body))
    const out = { ...v, p_hex: toHex(p), id_hex: toHex(id), frame_hex: toHex(bytes), frame_len: bytes.length } as SignedFrameVector
    if (compression === undefined) out.frame_len_0_7 = withLen(concatBytes(id, p)).length
    return out
  }
  const hello = encode([0x00, utf8(sender), TIMESTAMP, 0x00, utf8('hello')])
  const hi = encode([0x02, utf8(sender), TIMESTAMP, 0x02, 'hi'])

  const peerId = nodeIdOf(ed.getPublicKey(PEER_SEED))
  const signerNonce = Uint8Array.from({ length: 32 }, (_, i) => i)
  const peerNonce = Uint8Array.from({ length: 32 }, (_, i) => 0x20 + i)
  const handshake = concatBytes(utf8(HANDSHAKE_CONTEXT), utf8(pid), z(0), utf8(sender), z(0), utf8(peerId), z(0), signerNonce, peerNonce)

  return {
    about:
      'Test vectors for the signed variant of the p2p.today 0.7 frame (docs/protocol.md, "Signed frames"), built from the ' +
      'specification by src/testing/signed-vectors.ts (npx tsx src/testing/make-vectors.ts). Ed25519 key from the ' +
      'seed below (RFC 8032), node id = base58(int(SHA-384(public key))), protocol id = protocolId(subnet, transport + ' +
      "'+ed25519'). packets is [main_flag, sender, time, sub_flag, ...payload]; the sender travels as msgpack bin.",
    variant: 'signed',
    seed_hex: toHex(SEED),
    public_key_hex: toHex(publicKey),
    node_id: sender,
    subnet: SUBNET,
    transport: TRANSPORT,
    timestamp: TIMESTAMP,
    protocol_id: pid,
    protocol_id_0_7: protocolIdOf(SUBNET, TRANSPORT),
    messages: {
      signed_broadcast_hello: frame("[0x00, bin(node_id), 1500000000, 0x00, b'hello']", hello, true),
      link_whisper_hi: frame("[0x02, bin(node_id), 1500000000, 0x02, 'hi']", hi, false),
      signed_broadcast_hello_zlib: frame("[0x00, bin(node_id), 1500000000, 0x00, b'hello']", hello, true, ZLIB),
    },
    handshake: {
      signer_id: sender,
      peer_id: peerId,
      signer_nonce_hex: toHex(signerNonce),
      peer_nonce_hex: toHex(peerNonce),
      input_hex: toHex(handshake),
      signature_hex: toHex(ed.sign(handshake, SEED)),
    },
  }
}

/** The fixture's text: JSON with a one-space indent, as the 0.7 vectors. */
export function signedVectorsJson(): string {
  return `${JSON.stringify(buildSignedVectors(), null, 1)}\n`
}
