import { encode } from '@msgpack/msgpack'
import { MESH_FLAGS, meshFrame, type MeshMessage } from '../mesh/messages.js'
import { concatBytes, fromHex, utf8 } from '../util/bytes.js'
import vectors from '../wire/fixtures/vectors-0.7.json' with { type: 'json' }
import { SUPPORTED_COMPRESSIONS } from '../wire/compression.js'
import { ID_BYTES, LEN_BYTES, decodeFrame, encodeFrame } from '../wire/frame.js'
import { header, randomB58, randomValue } from './fuzz-msgpack.js'
import type { InputKind } from './fuzz.js'
import type { Prng } from './prng.js'

/** Valid material the fuzzer's mutations start from (test-only). */
export interface FuzzCorpus {
  /** Whole frames as sent: LEN ‖ C(ID ‖ P), raw and compressed. */
  frames: Uint8Array[]
  /** The P (msgpack array) of each message. */
  packed: Uint8Array[]
  /**
   * Ids to put into generated messages: [0] the usual sender, [1] the node under test (routed
   * target), [2] the protocol id, then others.
   */
  ids: string[]
  /** The compression methods worth compressing bodies with. */
  compressions: number[]
  /**
   * Signed variant (src/testing/fuzz-signed.ts): the K || A blocks that bodies the fuzzer seals
   * get (ID || K || A || P), and fresh messages go out link-authenticated. Absent: 0.7 bodies.
   */
  auth?: Uint8Array[]
  /** Input kind weights that replace INPUT_KINDS' for this corpus (the signed corpus gives 'auth' some). */
  weights?: Partial<Record<InputKind, number>>
  /**
   * The 'live' input kind's generator, for a target whose valid inputs depend on its state (the
   * signed live node: its clock, the hostile link's nonces). Deterministic given that state.
   */
  live?: (rng: Prng) => Uint8Array
}

/** A message of every mesh kind, from `sender`, with `target` as the routed target and listed peer. */
export function everyMeshMessage(sender: string, target: string, protocolId: string, other: string): MeshMessage[] {
  const text = 'the quick brown fox jumps over the lazy dog; '.repeat(20) // over the 512-byte compression floor
  return [
    { kind: 'handshake', id: sender, protocolId, compressions: [...SUPPORTED_COMPRESSIONS] },
    { kind: 'peers', peers: [target, other] },
    { kind: 'peers-request' },
    { kind: 'ping', nonce: 7 },
    { kind: 'pong', nonce: 7 },
    { kind: 'broadcast', payload: ['hello', 42, new Uint8Array([1, 2, 3]), { nested: [true, null, 1.5] }, 2n ** 60n] },
    { kind: 'broadcast', payload: [text] },
    { kind: 'whisper', payload: ['psst', { a: [1, 2, { b: 'c' }] }] },
    { kind: 'routed-whisper', target, payload: ['hi', -1] },
    { kind: 'routed-whisper', target: other, payload: [text] },
    { kind: 'routed-signal', target, blob: { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' } },
    { kind: 'routed-signal', target: other, blob: { candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0' } } },
  ]
}

/** Frames (raw, zlib, gzip) and their P for `messages`, with `extra` frames added as they are. */
function corpusOf(messages: [MeshMessage, string][], ids: string[], extra: Uint8Array[] = []): FuzzCorpus {
  const frames: Uint8Array[] = [...extra]
  const packed: Uint8Array[] = []
  for (const frame of extra) {
    try {
      packed.push(decodeFrame(frame, { compressions: [...SUPPORTED_COMPRESSIONS] }).body.slice(ID_BYTES))
    } catch {
      // a vector this decoder refuses is still a fine seed frame
    }
  }
  for (const [message, sender] of messages) {
    const msg = meshFrame(message, sender, 1_500_000_000)
    const raw = encodeFrame(msg)
    frames.push(raw, ...SUPPORTED_COMPRESSIONS.map((compression) => encodeFrame(msg, { compression })))
    packed.push(raw.slice(LEN_BYTES + ID_BYTES))
  }
  return { frames, packed, ids, compressions: [...SUPPORTED_COMPRESSIONS] }
}

/** The decoders' corpus: the 0.7 vectors (py2p) and a frame of every mesh kind. */
export function wireCorpus(): FuzzCorpus {
  const sender = vectors.sender
  const other = vectors.node_id.id_recomputed
  const protocolId = vectors.protocol_ids["('mesh', 'Plaintext')"]
  const vectorFrames = Object.values(vectors.messages).map((m) => fromHex(m.frame_hex))
  const messages = everyMeshMessage(sender, other, protocolId, other).map((m): [MeshMessage, string] => [m, sender])
  return corpusOf(messages, [sender, other, protocolId], vectorFrames)
}

/**
 * The live node's corpus: every mesh kind sent by `hostile` (so whispers and handshakes pass the
 * sender checks), plus broadcasts and routed messages from a third node.
 */
export function meshCorpus(hostile: string, node: string, protocolId: string, third: string): FuzzCorpus {
  const fromHostile = everyMeshMessage(hostile, node, protocolId, third).map((m): [MeshMessage, string] => [m, hostile])
  const fromThird = everyMeshMessage(third, node, protocolId, hostile)
    .filter((m) => m.kind === 'broadcast' || m.kind === 'routed-whisper' || m.kind === 'routed-signal')
    .map((m): [MeshMessage, string] => [m, third])
  return corpusOf([...fromHostile, ...fromThird], [hostile, node, protocolId, third])
}

/** A plain JS value the mesh carries: scalars, bytes, ids, nested arrays and objects. */
function jsValue(rng: Prng, corpus: FuzzCorpus, depth = 2): unknown {
  switch (rng.int(depth > 0 ? 9 : 7)) {
    case 0:
      return rng.pick([null, true, false, undefined])
    case 1:
      return rng.int(2 ** 32) - 2 ** 31
    case 2:
      return rng.pick([rng.range(-1e9, 1e9), 2n ** 60n, -(2n ** 63n), Number.MAX_SAFE_INTEGER])
    case 3:
      return rng.pick(corpus.ids)
    case 4:
      return randomB58(rng, rng.int(100)) + rng.pick(['', ' ', '💥'])
    case 5:
      return rng.bytes(rng.chance(0.95) ? rng.int(64) : rng.int(4096))
    case 6:
      return ''
    case 7:
      return Array.from({ length: rng.int(5) }, () => jsValue(rng, corpus, depth - 1))
    default:
      return Object.fromEntries(Array.from({ length: rng.int(5) }, () => [rng.pick(['a', 'type', 'sdp', 'constructor', randomB58(rng, 4)]), jsValue(rng, corpus, depth - 1)]))
  }
}

/**
 * A valid mesh message of any kind from `sender`: fields drawn from the corpus ids (routed targets
 * usually the corpus's node under test), random payloads.
 */
export function randomMeshMessage(rng: Prng, corpus: FuzzCorpus, sender: string): MeshMessage {
  const id = (): string => (rng.chance(0.9) ? rng.pick(corpus.ids) : randomB58(rng, 1 + rng.int(90)))
  const payload = (): unknown[] => Array.from({ length: rng.int(5) }, () => jsValue(rng, corpus))
  const nonce = rng.chance(0.5) ? rng.int(1000) : rng.pick([0, Number.MAX_SAFE_INTEGER])
  const messages: (() => MeshMessage)[] = [
    () => ({ kind: 'handshake', id: sender, protocolId: rng.chance(0.8) ? corpus.ids[2] ?? id() : id(), compressions: [0x13, 0x11, 0x10, 0].filter(() => rng.chance(0.5)) }),
    () => ({ kind: 'peers', peers: Array.from({ length: rng.pick([0, 1, 2, 10, 64]) }, id) }),
    () => ({ kind: 'peers-request' }),
    () => ({ kind: 'ping', nonce }),
    () => ({ kind: 'pong', nonce }),
    () => ({ kind: 'broadcast', payload: payload() }),
    () => ({ kind: 'whisper', payload: payload() }),
    () => ({ kind: 'routed-whisper', target: rng.chance(0.5) ? corpus.ids[1] ?? id() : id(), payload: payload() }),
    () => ({ kind: 'routed-signal', target: rng.chance(0.5) ? corpus.ids[1] ?? id() : id(), blob: { v: 1, s: id(), d: jsValue(rng, corpus) } }),
  ]
  return rng.pick(messages)()
}

/**
 * A fresh, valid mesh message as a frame: any kind (randomMeshMessage), usually from the corpus's
 * first id (so direct whispers and handshakes pass), at a random time so its id is new. What
 * reaches the handlers past every check (signed variant: link-authenticated).
 */
export function randomMeshFrame(rng: Prng, corpus: FuzzCorpus): Uint8Array {
  // Any sender encodeFrame accepts (a node id: 1–66 base58 digits); others are the raw-P inputs' job.
  const sender = rng.chance(0.8) ? corpus.ids[0]! : rng.chance(0.9) ? rng.pick(corpus.ids) : randomB58(rng, 1 + rng.int(66))
  const msg = meshFrame(randomMeshMessage(rng, corpus, sender), sender, rng.int(2 ** 31))
  const compression = rng.chance(0.3) ? rng.pick(corpus.compressions) : undefined
  return encodeFrame(msg, { ...(compression === undefined ? {} : { compression }), ...(corpus.auth === undefined ? {} : { variant: 'signed' }) })
}

const MESH_TYPES = [0x00, 0x02, 0x03, 0x04, 0x0e, 0x05, 0x07, 0x12, 0x2f, 0x30, 0xffff_ffff]
const SUBS = [...new Set(Object.values(MESH_FLAGS)), 0x30]
const pack = (v: unknown): Uint8Array => encode(v, { useBigInt64: true })

/**
 * A fresh P: `[type, sender, time, sub, …]` where each field is usually a plausible value (mesh
 * flags, corpus ids as str or bin, peer lists up to one over the cap, signal blobs, nonces) and
 * sometimes a hostile one; the array count is sometimes wrong. `wild`: any msgpack value at all.
 */
export function valuesPacked(rng: Prng, corpus: FuzzCorpus, wild: boolean): Uint8Array {
  if (wild) return randomValue(rng, 4)
  const idValue = (): string | Uint8Array => {
    const s = rng.chance(0.9) ? rng.pick(corpus.ids) : randomB58(rng, rng.int(200))
    return rng.chance(0.5) ? s : utf8(s)
  }
  const field = (plausible: () => unknown): Uint8Array => (rng.chance(0.85) ? pack(plausible()) : randomValue(rng, 2))
  const rest: (() => Uint8Array)[] = [
    () => field(idValue),
    () => field(() => Array.from({ length: rng.pick([0, 1, 3, 64, 65]) }, () => [rng.chance(0.9) ? [] : ['h', 1], idValue()])),
    () => field(() => [0x13, 0x11, rng.int(256), 'x'].slice(0, rng.int(5))),
    () => field(() => ({ type: rng.pick(['offer', 'answer']), sdp: 'v=0', n: rng.int(10) })),
    () => field(() => rng.pick([0, 1, rng.int(2 ** 31), -1, 2 ** 53, 1.5])),
    () => field(() => []),
    () => randomValue(rng, 3),
  ]
  const parts = [
    field(() => rng.pick(MESH_TYPES)),
    field(idValue),
    field(() => rng.pick([1_500_000_000, 0, 2 ** 32, 2 ** 53 - 1])),
    field(() => rng.pick(SUBS)),
  ]
  for (let n = rng.int(5); n > 0; n--) parts.push(rng.pick(rest)())
  const count = rng.chance(0.9) ? parts.length : Math.max(0, parts.length + rng.pick([-2, -1, 1]))
  return concatBytes(header('array', count, rng.chance(0.9) ? 0 : 2), ...parts)
}
