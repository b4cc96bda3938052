import * as ed from '@noble/ed25519'
import { sha256, sha512 } from '@noble/hashes/sha2.js'
import { meshFrame, type MeshMessage } from '../mesh/messages.js'
import { concatBytes, fromHex } from '../util/bytes.js'
import { COMPRESSION } from '../wire/flags.js'
import { AUTH_KIND, AUTH_OVERHEAD, ID_BYTES, encodeFrame, frameBody, packFrame } from '../wire/frame.js'
import { compress } from '../wire/compression.js'
import vectors from '../wire/fixtures/vectors-signed-1.json' with { type: 'json' }
import { nodeIdFromPublicKey } from '../wire/ids.js'
import { signingInput } from '../wire/signed.js'
import { everyMeshMessage, type FuzzCorpus } from './fuzz-corpus.js'
import type { Prng } from './prng.js'

/**
 * The fuzzer's material for the signed frame variant (test-only): a corpus of signed and
 * link-authenticated frames, and the bodies of the 'auth' input kind, which attack the K byte and
 * the authentication block (docs/protocol.md, "Signed frames").
 */

ed.hashes.sha512 = sha512

/** The protocol id the corpus is signed for (the signed vectors' subnet). */
export const SIGNED_FUZZ_PROTOCOL_ID = vectors.protocol_id
const A_BYTES = AUTH_OVERHEAD.ed25519 - 1

/** K || A of a message signed by `seed`'s key for SIGNED_FUZZ_PROTOCOL_ID. */
function signedBlock(packed: Uint8Array, seed: Uint8Array, publicKey: Uint8Array): Uint8Array {
  const signature = ed.sign(signingInput(SIGNED_FUZZ_PROTOCOL_ID, sha256(packed)), seed)
  return concatBytes(Uint8Array.of(AUTH_KIND.ed25519), publicKey, signature)
}

/**
 * The signed variant's corpus: the signed vectors, and every mesh kind from the vectors' key as a
 * signed frame (raw, zlib, gzip) and a link-authenticated one. Bodies the fuzzer seals itself get
 * one of the `auth` blocks: K = 0x00 (about a third) or a K = 0x01 block of the corpus (its key, and
 * a signature of another message).
 */
export function signedCorpus(): FuzzCorpus {
  const seed = fromHex(vectors.seed_hex)
  const publicKey = fromHex(vectors.public_key_hex)
  const sender = vectors.node_id
  const other = vectors.handshake.peer_id
  const frames = Object.values(vectors.messages).map((m) => fromHex(m.frame_hex))
  const packed: Uint8Array[] = []
  const auth: Uint8Array[] = []
  const messages: MeshMessage[] = everyMeshMessage(sender, other, SIGNED_FUZZ_PROTOCOL_ID, other)
  for (const message of messages) {
    const msg = meshFrame(message, sender, vectors.timestamp)
    const p = packFrame(msg, { variant: 'signed' }).slice()
    const block = signedBlock(p, seed, publicKey)
    const body = concatBytes(sha256(p), block, p)
    frames.push(frameBody(body), ...[COMPRESSION.zlib, COMPRESSION.gzip].map((m) => frameBody(compress(m, body))), encodeFrame(msg, { variant: 'signed' }))
    packed.push(p)
    auth.push(block)
  }
  auth.push(...Array.from({ length: messages.length >> 1 }, () => Uint8Array.of(AUTH_KIND.link)))
  const compressions = [COMPRESSION.zlib, COMPRESSION.gzip]
  return { frames, packed, ids: [sender, other, SIGNED_FUZZ_PROTOCOL_ID], compressions, auth, weights: { auth: 15 } }
}

/** Keys that are not points, or odd ones: all zeros, all ones, the corpus key with a bit flipped. */
function oddKey(rng: Prng): Uint8Array {
  const flipped = fromHex(vectors.public_key_hex)
  flipped[rng.int(32)]! ^= 1 << rng.int(8)
  return rng.pick([new Uint8Array(32), new Uint8Array(32).fill(0xff), flipped, rng.bytes(32)])
}

/**
 * A body (no LEN) for the 'auth' input kind, from a corpus with `auth` blocks: another K byte
 * (the id recomputed, usually, for the P that K makes the decoder read), an authentication block
 * cut short, an id with no P, another message's key or signature or bits flipped in them, or a P
 * from a key of its own (random or not a point) with a signature that is not its.
 */
export function authBody(rng: Prng, corpus: FuzzCorpus): Uint8Array {
  const p = rng.pick(corpus.packed)
  const blocks = corpus.auth ?? [Uint8Array.of(AUTH_KIND.link)]
  const signed = blocks.filter((b) => b[0] === AUTH_KIND.ed25519)
  const block = signed.length > 0 ? rng.pick(signed) : new Uint8Array(AUTH_OVERHEAD.ed25519)
  const k = (kind: number): Uint8Array => Uint8Array.of(kind)
  switch (rng.int(5)) {
    case 0: {
      const kind = rng.pick([AUTH_KIND.link, AUTH_KIND.ed25519, 0x02, 0x7f, 0x80, 0xff, rng.int(256)])
      const rest = rng.chance(0.5) ? concatBytes(block.subarray(1), p) : p
      const start = kind === AUTH_KIND.ed25519 ? A_BYTES : 0
      return concatBytes(rng.chance(0.8) ? sha256(rest.subarray(start)) : sha256(p), k(kind), rest)
    }
    case 1: {
      const rest = concatBytes(block.subarray(1, 1 + rng.int(A_BYTES)), rng.chance(0.5) ? p : new Uint8Array(0))
      return concatBytes(rng.chance(0.7) ? sha256(rest.subarray(A_BYTES)) : sha256(p), k(AUTH_KIND.ed25519), rest)
    }
    case 2: {
      const id = rng.chance(0.5) ? sha256(p) : rng.bytes(ID_BYTES)
      return rng.pick([id, concatBytes(id, k(rng.pick([AUTH_KIND.link, AUTH_KIND.ed25519]))), concatBytes(id, block)])
    }
    case 3: {
      const out = block.slice()
      const mutation = rng.int(4)
      if (mutation === 0) out.set(rng.pick(signed.length > 0 ? signed : [block]).subarray(1 + 32), 1 + 32)
      else if (mutation === 1) out.set(rng.bytes(64), 1 + 32)
      else out[mutation === 2 ? 1 + rng.int(32) : 33 + rng.int(64)]! ^= 1 << rng.int(8)
      return concatBytes(sha256(p), out, p)
    }
    default: {
      const key = rng.chance(0.5) ? rng.bytes(32) : oddKey(rng)
      const own = packFrame({ type: 0, sender: nodeIdFromPublicKey(key), time: rng.int(2 ** 31), payload: [0, 'x'] }, { variant: 'signed' })
      const signature = rng.chance(0.5) ? rng.bytes(64) : block.subarray(1 + 32)
      return concatBytes(sha256(own), k(AUTH_KIND.ed25519), key, signature, own)
    }
  }
}
