import { getPublicKey } from '@noble/ed25519'
import { sha256 } from '@noble/hashes/sha2.js'
import {
  Identity,
  SignatureVerifier,
  decodeFrame,
  encodeFrame,
  frameBody,
  nodeIdFromPublicKey,
  packFrame,
  sealBody,
  signedProtocolId,
  signingInput,
  verifySignature,
  type CryptoBackend,
  type FrameMessage,
} from '../../src/wire/index.js'

// The signing bench's cases (bench/sign-browser.ts runs them in Node and in a Chromium page): how
// many signed broadcasts one thread can sign and verify, WebCrypto vs @noble/ed25519, one at a
// time and 64 in flight, and what SignatureVerifier's key cache is worth.

export const BATCH = 64
const SENDERS = 1000
const FRAMES_PER_KEY = 256
const PID = signedProtocolId('bench', 'webrtc')
const TEXT = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsi'.slice(0, 100)
const BACKENDS: CryptoBackend[] = ['webcrypto', 'noble']

/** A broadcast of 100 bytes of text from `sender`, at a time of its own (its own id). */
const message = (sender: string, i: number): FrameMessage => ({ type: 0, sender, time: 1_500_000_000 + i, payload: [0, TEXT] })

/** Encodes a broadcast as a signed frame: pack P, hash it, sign the id, seal ID || K || A || P, prefix LEN. */
async function signFrame(identity: Identity, i: number): Promise<Uint8Array> {
  const packed = packFrame(message(identity.id, i), { variant: 'signed' })
  const id = sha256(packed)
  const signature = await identity.sign(signingInput(PID, id))
  return frameBody(sealBody(packed, id, 'signed', { publicKey: identity.publicKey, signature }))
}

/** What a receiver does: decode, check the key hashes to the sender, verify the signature. */
function verifyFrame(verifier: SignatureVerifier, frame: Uint8Array): boolean | Promise<boolean> {
  const d = decodeFrame(frame, { variant: 'signed' })
  if (d.auth === undefined || !verifier.idMatches(d.auth.publicKey, d.sender)) return false
  return verifier.verify(d.auth.publicKey, signingInput(PID, d.id), d.auth.signature)
}

/** The same without SignatureVerifier: the node id recomputed and the key imported for every message. */
async function verifyUncached(backend: CryptoBackend, frame: Uint8Array): Promise<boolean> {
  const d = decodeFrame(frame, { variant: 'signed' })
  if (d.auth === undefined || nodeIdFromPublicKey(d.auth.publicKey) !== d.sender) return false
  return verifySignature(d.auth.publicKey, signingInput(PID, d.id), d.auth.signature, backend)
}

const seedOf = (n: number): Uint8Array => {
  const seed = new Uint8Array(32)
  new DataView(seed.buffer).setUint32(0, n + 1)
  return seed
}

interface Prepared {
  identities: Record<CryptoBackend, Identity>
  /** FRAMES_PER_KEY frames by one key, and one frame by each of SENDERS keys. */
  oneSender: Uint8Array[]
  manySenders: Uint8Array[]
  frameBytes: { unsigned: number; link: number; signed: number }
}
let prepared: Prepared | undefined

/** Keys and frames to verify (signed with noble: the frames are the same whoever signs). */
export async function prepare(): Promise<Prepared['frameBytes']> {
  const key = async (n: number, backend: CryptoBackend): Promise<Identity> =>
    Identity.fromKeyPair({ publicKey: getPublicKey(seedOf(n)), secretKey: seedOf(n) }, { backend })
  const identities = { webcrypto: await key(0, 'webcrypto'), noble: await key(0, 'noble') }
  const oneSender = await Promise.all(Array.from({ length: FRAMES_PER_KEY }, (_, i) => signFrame(identities.noble, i)))
  const manySenders: Uint8Array[] = []
  for (let n = 1; n <= SENDERS; n++) manySenders.push(await signFrame(await key(n, 'noble'), n))
  const m = message(identities.noble.id, 0)
  const frameBytes = { unsigned: encodeFrame(m).length, link: encodeFrame(m, { variant: 'signed' }).length, signed: oneSender[0]!.length }
  prepared = { identities, oneSender, manySenders, frameBytes }
  return frameBytes
}

/** Operations per second of `op(i)` for i = 0, 1, …, for at least `ms`: one at a time, or BATCH in flight. */
async function rate(op: (i: number) => unknown, batched: boolean, ms: number): Promise<number> {
  let i = 0
  const t0 = performance.now()
  let t = t0
  while (t - t0 < ms) {
    if (batched) {
      const base = i
      await Promise.all(Array.from({ length: BATCH }, (_, j) => op(base + j)))
      i += BATCH
    } else {
      await op(i++)
    }
    t = performance.now()
  }
  return i / ((t - t0) / 1000)
}

/** One round of every case, `ms` each: case name → operations per second. */
export async function round(ms: number): Promise<Record<string, number>> {
  const p = prepared
  if (p === undefined) throw new Error('call prepare() first')
  const out: Record<string, number> = {}
  const one = p.oneSender
  const many = p.manySenders
  const m = message(p.identities.noble.id, 0)
  out['encode 0.7 (no signature)'] = await rate(() => encodeFrame(m), false, ms)
  out['decode signed (no checks)'] = await rate((i) => decodeFrame(one[i % one.length]!, { variant: 'signed' }), false, ms)
  for (const backend of BACKENDS) {
    const identity = p.identities[backend]
    out[`sign/${backend}/sequential`] = await rate((i) => signFrame(identity, i), false, ms)
    out[`sign/${backend}/batch`] = await rate((i) => signFrame(identity, i), true, ms)
    const warm = new SignatureVerifier({ backend })
    out[`verify/${backend}/one/sequential`] = await rate((i) => verifyFrame(warm, one[i % one.length]!), false, ms)
    out[`verify/${backend}/one/batch`] = await rate((i) => verifyFrame(warm, one[i % one.length]!), true, ms)
    // A fresh verifier for every pass over the 1000 senders: every key is new to it.
    const cold: SignatureVerifier[] = []
    out[`verify/${backend}/many-cold/batch`] = await rate((i) => verifyFrame((cold[Math.floor(i / many.length)] ??= new SignatureVerifier({ backend })), many[i % many.length]!), true, ms)
    const warmMany = new SignatureVerifier({ backend })
    await Promise.all(many.map((f) => verifyFrame(warmMany, f)))
    out[`verify/${backend}/many-warm/batch`] = await rate((i) => verifyFrame(warmMany, many[i % many.length]!), true, ms)
    out[`verify/${backend}/uncached/batch`] = await rate((i) => verifyUncached(backend, many[i % many.length]!), true, ms)
  }
  return out
}
