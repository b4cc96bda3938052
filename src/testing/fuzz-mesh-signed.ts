import * as ed from '@noble/ed25519'
import { sha256 } from '@noble/hashes/sha2.js'
import { MESH_DEFAULTS, type MeshOptions as MeshSocketOptions } from '../mesh/options.js'
import { meshFrame, needsSignature, type MeshMessage } from '../mesh/messages.js'
import type { ReceivedMessage } from '../mesh/mesh-socket.js'
import { concatBytes, utf8 } from '../util/bytes.js'
import { compress, SUPPORTED_COMPRESSIONS } from '../wire/compression.js'
import { COMPRESSION, FLAGS } from '../wire/flags.js'
import { AUTH_KIND, encodeBody, encodeFrame, frameBody, packFrame, type DecodedFrame, type FrameAuth, type FrameMessage } from '../wire/frame.js'
import { Identity } from '../wire/identity.js'
import { protocolId as unsignedProtocolId } from '../wire/ids.js'
import { handshakeInput, NONCE_BYTES, signingInput } from '../wire/signed.js'
import { everyMeshMessage, randomMeshMessage, type FuzzCorpus } from './fuzz-corpus.js'
import { dial, liveHarness, liveScene, MAX_STEPS, type MeshFuzzHarness } from './fuzz-mesh.js'
import { randomB58 } from './fuzz-msgpack.js'
import type { Prng } from './prng.js'
import { RawPeer } from './raw-peer.js'
import type { SimMeshNode } from './sim-mesh.js'
import type { Link } from '../transport/types.js'

/**
 * 'mesh-node-signed' (test-only): the live-node target (fuzz-mesh.ts) in the signed mode, the
 * default. The hostile peer holds two seeded keys, its own and "another identity", and completes
 * the real handshake (key, nonce, proof of key) as a RawPeer; whenever the node closes its link it
 * dials again. Every 8th connection stays mid-handshake: connections 16, 32, … send no handshake,
 * connections 8, 24, … send theirs and leave the node waiting for the proof of key, which only an
 * input may bring. The handshakes advertise zlib+gzip, gzip only, or nothing, in turn.
 *
 * Inputs: the mutation engine on a corpus of signed-variant frames of every mesh kind — K = 0 and
 * K = 1, signed by the hostile key, by the other one, in an honest node's name, with the key or the
 * signature altered, stale and future — raw, zlib and gzip (re-signed every minute of virtual time,
 * so that its timestamps stay in the node's replay window), plus the 'live' kind (weight 40 of
 * 150): fresh frames signed at the node's current time in all those ways (tagged), auth messages
 * (a valid proof for the link, and mutated, replayed or mis-signed ones), handshakes, and replays
 * of genuine honest broadcasts the hostile peer received (as they are, altered, re-attributed,
 * stripped of their signature). While the link is mid-handshake, the live kind mostly brings what
 * the node waits for, or nearly.
 *
 * Besides the live-node crashes, a finding: any node (the target or an honest one) delivering a
 * message in the name of a node whose key the hostile peer does not hold (anything but the
 * harness's own honest broadcasts, each once, from its true sender), or any fresh input tagged as
 * one that must be dropped ('fz!': forged, stale or future, unsigned where a signature is needed,
 * a direct whisper from someone else). The rate limit stays the default: see fuzz-mesh.ts.
 */
/** A seeded key the harness signs with synchronously (noble). */
interface Key {
  secret: Uint8Array
  publicKey: Uint8Array
  identity: Identity
  id: string
}

async function seededKey(random: Prng): Promise<Key> {
  const secret = random.bytes(32)
  const publicKey = ed.getPublicKey(secret)
  const identity = await Identity.fromKeyPair({ publicKey, secretKey: secret }, { backend: 'noble' })
  return { secret, publicKey, identity, id: identity.id }
}

/** How a fresh message is signed: with whose key, in whose name, tampered how, when. */
type Signing = 'self' | 'other' | 'link' | 'other-key' | 'honest-name' | 'honest-key' | 'honest-link' | 'key-flip' | 'sig-flip' | 'stale' | 'future' | 'edge'
const SIGNINGS: [Signing, number][] = [
  ['self', 5], ['other', 2], ['link', 2], ['other-key', 1], ['honest-name', 1], ['honest-key', 1], ['honest-link', 1],
  ['key-flip', 1], ['sig-flip', 1], ['stale', 1], ['future', 1], ['edge', 1],
]

function weighted<T>(rng: Prng, table: [T, number][]): T {
  let r = rng.next() * table.reduce((s, [, w]) => s + w, 0)
  for (const [v, w] of table) if ((r -= w) < 0) return v
  return table[0]![0]
}

/** Appends `items` to `list`, keeping its last `max`. */
function keepLast<T>(list: T[], max: number, ...items: T[]): void {
  list.push(...items)
  list.splice(0, Math.max(0, list.length - max))
}

const flipBit = (rng: Prng, b: Uint8Array): Uint8Array => {
  const out = b.slice()
  out[rng.int(out.length)]! ^= 1 << rng.int(8)
  return out
}

export async function meshNodeSignedHarness(seed: number, options: MeshSocketOptions = {}): Promise<MeshFuzzHarness> {
  const scene = await liveScene(seed, options, {})
  const { sim, node, a, b } = scene
  const protocolId = node.socket.protocolId
  const skewS = (options.maxClockSkewMs ?? MESH_DEFAULTS.maxClockSkewMs) / 1000
  const hostile = await seededKey(sim.random)
  const other = await seededKey(sim.random)
  const third = randomB58(sim.random, 66) // a node nobody holds the key of
  const honest = [node, a, b]
  const transport = sim.transport(hostile.id)
  const now = (): number => Math.floor(sim.now() / 1000)

  // ---- frames ---------------------------------------------------------------------------------

  /** The signed variant's body ID || K || A || P of `msg`: K = 0 without `key`, else signed by it (the shown key and the signature possibly altered). */
  const sealed = (msg: FrameMessage, key?: Key, tamper?: { shown?: Uint8Array; signature?: (s: Uint8Array) => Uint8Array }): { body: Uint8Array; p: Uint8Array; block: Uint8Array } => {
    const p = packFrame(msg, { variant: 'signed' }).slice()
    const id = sha256(p)
    let block: Uint8Array = Uint8Array.of(AUTH_KIND.link)
    if (key !== undefined) {
      const signature = ed.sign(signingInput(protocolId, id), key.secret)
      block = concatBytes(Uint8Array.of(AUTH_KIND.ed25519), tamper?.shown ?? key.publicKey, tamper?.signature?.(signature) ?? signature)
    }
    return { body: concatBytes(id, block, p), p, block }
  }
  const framed = (body: Uint8Array, method?: number): Uint8Array => frameBody(method === undefined ? body : compress(method, body))

  // ---- the corpus (re-signed every minute of virtual time) ------------------------------------

  const corpus: FuzzCorpus = {
    frames: [],
    packed: [],
    ids: [hostile.id, node.id, protocolId, other.id, a.id, b.id, third],
    compressions: [COMPRESSION.zlib, COMPRESSION.gzip],
    auth: [],
    weights: { auth: 10, live: 40 },
  }
  let corpusBuiltAt = -Infinity
  const buildCorpus = (): void => {
    corpusBuiltAt = sim.now()
    const t = now()
    const frames: Uint8Array[] = []
    const packed: Uint8Array[] = []
    const auth: Uint8Array[] = []
    const add = (s: { body: Uint8Array; p: Uint8Array; block: Uint8Array }, compressed = false): void => {
      frames.push(framed(s.body), ...(compressed ? [COMPRESSION.zlib, COMPRESSION.gzip].map((m) => framed(s.body, m)) : []))
      packed.push(s.p)
      if (s.block[0] === AUTH_KIND.ed25519) auth.push(s.block)
    }
    for (const message of everyMeshMessage(hostile.id, node.id, protocolId, third)) {
      add(sealed(meshFrame(message, hostile.id, t), hostile), true)
      add(sealed(meshFrame(message, hostile.id, t)))
    }
    // In other names, or signed wrongly: all to be dropped but the other identity's own.
    const named: MeshMessage[] = [
      { kind: 'broadcast', payload: ['forged-corpus', 1] },
      { kind: 'whisper', payload: ['forged-corpus', 2] },
      { kind: 'routed-whisper', target: a.id, payload: ['forged-corpus', 3] },
      { kind: 'routed-signal', target: b.id, blob: { type: 'offer', sdp: 'v=0' } },
    ]
    for (const message of named) {
      const at = (sender: string, time = t): FrameMessage => meshFrame(message, sender, time)
      add(sealed(at(other.id), other))
      add(sealed(at(a.id), hostile))
      add(sealed(at(node.id), hostile, { shown: node.identity.publicKey }))
      add(sealed(at(b.id)))
      add(sealed(at(hostile.id, t - skewS - 100), hostile))
      add(sealed(at(hostile.id, t + skewS + 100), hostile))
      add(sealed(at(hostile.id), hostile, { shown: flipBit(sim.random, hostile.publicKey) }))
      add(sealed(at(hostile.id), hostile, { signature: (s) => flipBit(sim.random, s) }))
    }
    // The handshake (0.7's layout) and an auth message, for links still handshaking.
    const nonce = sha256(utf8(`corpus nonce ${t}`))
    frames.push(encodeFrame(meshFrame({ kind: 'handshake', id: hostile.id, protocolId, compressions: [...SUPPORTED_COMPRESSIONS], publicKey: hostile.publicKey, nonce }, hostile.id, 1)))
    add(sealed(meshFrame({ kind: 'auth', signature: concatBytes(sha256(nonce), nonce) }, hostile.id, t)))
    // K = 0 for about a third of the sealed bodies.
    auth.push(...Array.from({ length: auth.length >> 1 }, () => Uint8Array.of(AUTH_KIND.link)))
    for (const [list, items] of [[corpus.frames, frames], [corpus.packed, packed], [corpus.auth!, auth]] as const) list.splice(0, list.length, ...items)
  }
  buildCorpus()

  // ---- the hostile link -----------------------------------------------------------------------

  let raw: RawPeer | undefined
  let ourNonce: Uint8Array | undefined
  /** Proofs of key the hostile peer sent on earlier links (replayed), honest frames it received. */
  const proofs: Uint8Array[] = []
  const genuine: DecodedFrame[] = []
  let receivedSeen = 0

  const connect = async (n: number): Promise<Link> => {
    if (raw !== undefined) keepLast(proofs, 4, ...raw.sentAuth)
    const link = await dial(sim, transport, node.id)
    const leaveAt = n % 16 === 0 ? 'hello' : n % 16 === 8 ? 'auth' : 'ready'
    const nonce: { bytes?: Uint8Array } = {}
    raw = new RawPeer(link, hostile.identity, {
      protocolId,
      variant: 'signed',
      randomBytes: (k) => (nonce.bytes = sim.random.bytes(k)),
      answerPings: false,
      proof: leaveAt === 'ready' ? 'sign' : 'none',
    })
    receivedSeen = 0
    ourNonce = nonce.bytes
    if (leaveAt === 'hello') return link // no handshake: inputs hit a link still handshaking
    const compressions = [[...SUPPORTED_COMPRESSIONS], [COMPRESSION.gzip], []][n % 3]!
    const hello = meshFrame({ kind: 'handshake', id: hostile.id, protocolId, compressions, publicKey: hostile.publicKey, nonce: ourNonce! }, hostile.id, 1)
    void link.send(encodeFrame(hello)).catch(() => {})
    const peer = raw
    if (leaveAt === 'auth') {
      // The node sent its proof of key: it now waits for ours, which only an input may bring.
      if (!(await sim.runUntil(() => stage() === 'auth' || peer.closed !== undefined, MAX_STEPS))) {
        throw new Error('fuzz harness: the node did not answer a valid signed handshake')
      }
      return link
    }
    if (!(await sim.runUntil(() => node.socket.peers.includes(hostile.id), MAX_STEPS))) throw new Error('fuzz harness: the node refused a valid signed handshake')
    return link
  }

  // ---- the 'live' input kind --------------------------------------------------------------------

  let fresh = 0
  /** A fresh message signed (or not) as `how`, tagged 'fz!' if the node must drop it. */
  const signedMessage = (rng: Prng): Uint8Array => {
    const how = weighted(rng, SIGNINGS)
    const victim = rng.pick(honest)
    const sender = how === 'other' ? other.id : how.startsWith('honest') ? victim.id : hostile.id
    const message = randomMeshMessage(rng, corpus, sender)
    const t = now()
    const time =
      how === 'stale' ? t - skewS - 2 - rng.int(100_000)
      : how === 'future' ? t + skewS + 2 + rng.int(100_000)
      : how === 'edge' ? t + rng.pick([-1, 1]) * (skewS + rng.pick([-1, 0, 1]))
      : t + rng.int(121) - 60
    const mayDeliver =
      how === 'self' || how === 'edge' || (how === 'other' && message.kind !== 'whisper') || (how === 'link' && !needsSignature(message))
    const tag = `fz${mayDeliver ? '+' : '!'}${++fresh}`
    if ('payload' in message) message.payload = [tag, ...message.payload]
    const msg = meshFrame(message, sender, time)
    const key = how === 'link' || how === 'honest-link' ? undefined : how === 'other' || how === 'other-key' ? other : hostile
    const { body } = sealed(msg, key, {
      ...(how === 'honest-key' ? { shown: victim.identity.publicKey } : how === 'key-flip' ? { shown: flipBit(rng, hostile.publicKey) } : {}),
      ...(how === 'sig-flip' ? { signature: (s: Uint8Array) => (rng.chance(0.7) ? flipBit(rng, s) : rng.chance(0.5) ? rng.bytes(64) : corpus.auth![0]!.slice(33)) } : {}),
    })
    return framed(body, rng.chance(0.3) ? rng.pick(corpus.compressions) : undefined)
  }

  /** An auth message: the proof of key for this link (what the node waits for), or not quite. */
  const authMessage = (rng: Prng, awaited = false): Uint8Array => {
    const peerNonce = raw?.peerNonce ?? rng.bytes(NONCE_BYTES)
    const mine = ourNonce ?? rng.bytes(NONCE_BYTES)
    const proof = (key: Key, signer = hostile.id, peer = node.id, n1 = mine, n2 = peerNonce): Uint8Array => ed.sign(handshakeInput(protocolId, signer, peer, n1, n2), key.secret)
    let signature: Uint8Array
    switch (awaited && rng.chance(0.4) ? 0 : rng.int(9)) {
      case 0:
      case 1:
      case 2:
        signature = proof(hostile)
        break
      case 3:
        signature = flipBit(rng, proof(hostile))
        break
      case 4:
        signature = proof(other)
        break
      case 5:
        signature = rng.chance(0.5) ? proof(hostile, hostile.id, node.id, peerNonce, mine) : proof(hostile, node.id, hostile.id)
        break
      case 6:
        signature = proofs.length > 0 ? rng.pick(proofs) : rng.bytes(64)
        break
      case 7:
        signature = rng.bytes(64)
        break
      default:
        signature = rng.bytes(rng.pick([0, 32, 63, 65, 128])) // not an auth message's shape
    }
    const sender = rng.chance(0.9) ? hostile.id : rng.pick(honest).id
    const { body } = sealed(meshFrame({ kind: 'auth', signature }, sender, now()), rng.chance(0.3) ? hostile : undefined)
    return framed(body)
  }

  /** A handshake (0.7's layout, as every handshake): ours, or with the wrong key, id, subnet or nonce. */
  const handshake = (rng: Prng): Uint8Array => {
    const hello = {
      kind: 'handshake' as const,
      id: hostile.id,
      protocolId,
      compressions: [COMPRESSION.zlib, COMPRESSION.gzip].filter(() => rng.chance(0.5)),
      publicKey: hostile.publicKey,
      nonce: ourNonce ?? rng.bytes(NONCE_BYTES),
    }
    switch (rng.int(8)) {
      case 0:
        Object.assign(hello, { publicKey: other.publicKey })
        break
      case 1:
        Object.assign(hello, { id: other.id, publicKey: other.publicKey }) // not the id the link shows
        break
      case 2:
        Object.assign(hello, { protocolId: unsignedProtocolId('sim', 'webrtc') }) // the same subnet in 0.7
        break
      case 3:
        Object.assign(hello, { nonce: rng.bytes(rng.pick([0, 16, 31, 33])) })
        break
      case 4: // a 0.7 handshake: no key, no nonce
        return encodeFrame(meshFrame({ kind: 'handshake', id: hello.id, protocolId, compressions: hello.compressions }, hello.id, 1))
      default:
    }
    const msg = meshFrame(hello, hello.id, 1)
    return rng.chance(0.85) ? encodeFrame(msg) : encodeFrame(msg, { variant: 'signed' })
  }

  /** A genuine honest broadcast the hostile peer received: again, altered, re-attributed, unsigned or re-timed. */
  const replay = (rng: Prng): Uint8Array => {
    if (genuine.length === 0) return signedMessage(rng)
    const f = rng.pick(genuine)
    const auth = f.auth as FrameAuth
    const as = (changes: Partial<FrameMessage>, withAuth: FrameAuth | undefined = auth): Uint8Array =>
      frameBody(encodeBody({ type: f.type, sender: f.sender, time: f.time, payload: f.payload, ...changes }, { variant: 'signed', ...(withAuth === undefined ? {} : { auth: withAuth }) }))
    switch (rng.int(6)) {
      case 0:
        return framed(f.body, rng.chance(0.3) ? rng.pick(corpus.compressions) : undefined) // a duplicate
      case 1:
        return as({ payload: [FLAGS.broadcast, `fz!${++fresh}`] })
      case 2:
        return as({ sender: rng.pick([hostile.id, other.id, ...honest.map((n) => n.id)].filter((id) => id !== f.sender)) })
      case 3:
        return as({}, undefined)
      case 4:
        return as({ time: f.time + rng.pick([-1, 1, -60, 60]) })
      default:
        return as({}, { publicKey: auth.publicKey, signature: ed.sign(signingInput(protocolId, f.id), hostile.secret) })
    }
  }

  /** Where the hostile link stands: the node has not had our handshake, waits for our proof of key, or is linked. */
  const stage = (): 'hello' | 'auth' | 'ready' =>
    node.socket.peers.includes(hostile.id) ? 'ready' : raw?.received.some((r) => r.message?.kind === 'auth') === true ? 'auth' : 'hello'
  corpus.live = (rng) => {
    // A link mid-handshake mostly gets what it waits for (or nearly), so that the next step is reached.
    const at = stage()
    if (at === 'hello' && rng.chance(0.6)) return handshake(rng)
    if (at === 'auth' && rng.chance(0.8)) return authMessage(rng, true)
    const r = rng.next()
    return r < 0.62 ? signedMessage(rng) : r < 0.82 ? authMessage(rng) : r < 0.9 ? handshake(rng) : replay(rng)
  }

  // ---- what was delivered -----------------------------------------------------------------------

  const mine = new Set([hostile.id, other.id])
  const origins: [string, string][] = [['honest-a-', a.id], ['honest-node-', node.id]]
  const honestSeen = new Map<string, number>()
  const violations: string[] = []
  const watch = (n: SimMeshNode, name: string): void => {
    n.socket.on('message', (m: ReceivedMessage) => {
      const tag = typeof m.payload[0] === 'string' ? m.payload[0] : ''
      const what = `${name} delivered a ${m.type} from ${m.sender.slice(0, 12)}… tagged '${tag.slice(0, 40)}'`
      const origin = origins.find(([prefix]) => tag.startsWith(prefix))?.[1]
      if (tag.startsWith('fz!')) violations.push(`${what}: an input the node must drop`)
      else if (origin !== undefined) {
        const key = `${name} ${tag}`
        honestSeen.set(key, (honestSeen.get(key) ?? 0) + 1)
        if (m.sender !== origin) violations.push(`${what}: an honest node's message under another sender`)
        else if (honestSeen.get(key)! > 1) violations.push(`${what}: delivered twice`)
      } else if (!mine.has(m.sender)) violations.push(`${what}: in the name of a node the hostile peer holds no key of`)
    })
  }
  watch(node, 'the node')
  watch(a, 'honest a')
  watch(b, 'honest b')

  const harness = await liveHarness('mesh-node-signed', scene, {
    id: hostile.id,
    corpus,
    connect,
    check() {
      if (violations.length > 0) throw new Error(`forged delivery: ${violations.splice(0).join(' | ')}`)
      if (sim.now() - corpusBuiltAt > 60_000) buildCorpus()
      // Honest broadcasts the hostile peer heard, to replay.
      for (const r of raw?.received.slice(receivedSeen) ?? []) {
        if (r.frame.auth !== undefined && r.message?.kind === 'broadcast' && !mine.has(r.frame.sender)) keepLast(genuine, 8, r.frame)
      }
      receivedSeen = raw?.received.length ?? 0
    },
    close: () => transport.close(),
  })
  return harness
}
