import { sha256 } from '@noble/hashes/sha2.js'
import { IDENTITY_ERROR_CODES, MESH_ERROR_CODES, MeshError, P2PError, TRANSPORT_ERROR_CODES, WIRE_ERROR_CODES, WireError } from '../errors.js'
import { concatBytes } from '../util/bytes.js'
import { compress } from '../wire/compression.js'
import { COMPRESSION } from '../wire/flags.js'
import { FRAME_DEFAULTS, LEN_BYTES, encodeFrame } from '../wire/frame.js'
import { randomMeshFrame, valuesPacked, type FuzzCorpus } from './fuzz-corpus.js'
import { authBody } from './fuzz-signed.js'
import { STRUCTURED, walkMsgpack } from './fuzz-msgpack.js'
import { Prng } from './prng.js'

/**
 * A small seeded fuzzer for the frame decoder and the message handlers (test-only).
 *
 * Input `index` under `seed` comes from its own PRNG, `new Prng(inputSeed(seed, index))`, so any
 * input is rebuilt from (seed, index) alone. Inputs are random bytes or mutations of a seed
 * corpus of valid frames (FuzzCorpus); see INPUT_KINDS. A target runs each input and is judged:
 *
 * - crash: it threw something it does not allow (decoders allow only named WireError/MeshError
 *   with a known code; link-level targets allow nothing), or its checkpoint failed;
 * - hang: one input took more than `hangMs` of this process's CPU time (process.cpuUsage: what
 *   the input cost, whatever else the machine is doing; wall clock is reported beside it);
 * - rejection: an unhandled promise rejection while the target ran.
 */

export type { FuzzCorpus } from './fuzz-corpus.js'

/** Input kinds and their weights (per cent). */
export const INPUT_KINDS = {
  /** Random bytes of random length (mostly short). */
  random: 7,
  /** Random bytes behind a correct LEN: past the length check, into the checksum. */
  'random-len': 4,
  /** Random bytes or a random msgpack value behind a correct LEN and ID: into msgpack. */
  'random-body': 4,
  /** A corpus frame unchanged (valid paths, duplicates). */
  seed: 3,
  /** A fresh valid mesh message of any kind with random fields and payload (new ids: not deduplicated). */
  message: 5,
  /** A corpus frame with 1–4 byte-level mutations (bit flips, insert/delete, truncation, splice, LEN). */
  mutate: 25,
  /** A corpus P with 1–3 msgpack-aware or byte mutations and the checksum recomputed (sometimes compressed after). */
  checksum: 32,
  /** A valid body compressed with zlib/gzip, then the compressed bytes mutated. */
  compressed: 10,
  /** A fresh P: mesh-shaped header and payload from valid and hostile values, checksum correct. */
  values: 9.9,
  /** A decompression bomb: inflates past maxFrameBytes, or a valid 1 MiB body (rare: ~40 ms each). */
  bomb: 0.1,
  /**
   * Signed variant only (weight 0 here; the signed corpus gives it weight): the K byte and the
   * authentication block attacked (src/testing/fuzz-signed.ts, `authBody`).
   */
  auth: 0,
  /**
   * Weight 0 here: a frame from the corpus's own generator (`corpus.live`), for a target with
   * state the engine cannot see. The signed live node's signs fresh messages at the node's
   * current time, with its keys or others', and proves the hostile link's key (fuzz-mesh-signed.ts).
   */
  live: 0,
} as const
export type InputKind = keyof typeof INPUT_KINDS

export interface FuzzInput {
  seed: number
  index: number
  kind: InputKind
  bytes: Uint8Array
}

/** The PRNG seed of input `index` under `seed`. */
export function inputSeed(seed: number, index: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) + index) >>> 0
}

/** A LEN prefix (big-endian, any value) and the body. */
export function withLen(body: Uint8Array, len = body.length): Uint8Array {
  const out = new Uint8Array(LEN_BYTES + body.length)
  new DataView(out.buffer).setUint32(0, len >>> 0, false)
  out.set(body, LEN_BYTES)
  return out
}

/** A well-framed body for `packed` with a correct checksum (signed variant: and `auth`, K || A), compressed with `method` if given. */
export function checksummed(packed: Uint8Array, method?: number, auth: Uint8Array = new Uint8Array(0)): Uint8Array {
  const body = concatBytes(sha256(packed), auth, packed)
  return withLen(method === undefined ? body : compress(method, body))
}

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xc0, 0xc1, 0x90, 0xdc, 0xdd, 0xde, 0xdf, 0xd9, 0xdb, 0xc4, 0xc6, 0x1f, 0x8b, 0x78, 0x9c]
const MAX = FRAME_DEFAULTS.maxFrameBytes
const INTERESTING_LENS = [0, 1, 31, 32, 33, 0x7fff_ffff, 0xffff_ffff, MAX, MAX + 1, MAX - 1]

type ByteMutation = (rng: Prng, b: Uint8Array, other: () => Uint8Array) => Uint8Array

/** Byte-level mutations, on a whole frame or on P alone. */
const BYTE_MUTATIONS: Record<string, ByteMutation> = {
  'bit-flip': (rng, b) => {
    const out = b.slice()
    for (let n = 1 + rng.int(8); n > 0 && out.length > 0; n--) out[rng.int(out.length)]! ^= 1 << rng.int(8)
    return out
  },
  'byte-set': (rng, b) => {
    const out = b.slice()
    for (let n = 1 + rng.int(4); n > 0 && out.length > 0; n--) out[rng.int(out.length)] = rng.chance(0.7) ? rng.pick(INTERESTING_BYTES) : rng.int(256)
    return out
  },
  insert: (rng, b) => {
    const at = rng.int(b.length + 1)
    const n = 1 + rng.int(16)
    const bytes = rng.chance(0.5) ? rng.bytes(n) : new Uint8Array(n).fill(rng.pick(INTERESTING_BYTES))
    return concatBytes(b.subarray(0, at), bytes, b.subarray(at))
  },
  delete: (rng, b) => {
    const at = rng.int(b.length + 1)
    return concatBytes(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(16))))
  },
  truncate: (rng, b) => b.slice(0, rng.int(b.length + 1)),
  splice: (rng, b, other) => {
    const o = other()
    return concatBytes(b.subarray(0, rng.int(b.length + 1)), o.subarray(rng.int(o.length + 1)))
  },
  duplicate: (rng, b) => {
    const from = rng.int(b.length + 1)
    const chunk = b.subarray(from, from + 1 + rng.int(32))
    const at = rng.int(b.length + 1)
    return concatBytes(b.subarray(0, at), chunk, b.subarray(at))
  },
}
const BYTE_NAMES = Object.keys(BYTE_MUTATIONS)
const STRUCTURED_NAMES = Object.keys(STRUCTURED)

function mutateBytes(rng: Prng, b: Uint8Array, other: () => Uint8Array): Uint8Array {
  return BYTE_MUTATIONS[rng.pick(BYTE_NAMES)]!(rng, b, other)
}

/** Rewrites LEN: a value of interest, off by one, random, or the true length. */
function rewriteLen(rng: Prng, frame: Uint8Array): Uint8Array {
  const actual = Math.max(0, frame.length - LEN_BYTES)
  const len = rng.pick([actual, actual + 1, actual - 1, rng.uint32(), rng.pick(INTERESTING_LENS)])
  const out = frame.length < LEN_BYTES ? withLen(new Uint8Array(0)) : frame.slice()
  new DataView(out.buffer).setUint32(0, len >>> 0, false)
  return out
}

let overLimit: Uint8Array[] | undefined
const validBombs = new WeakMap<FuzzCorpus, Uint8Array>()
/** Built once per process and corpus (compressing 16 MiB takes ~0.3 s). */
function bombFrames(corpus: FuzzCorpus): Uint8Array[] {
  // Streams that inflate past maxFrameBytes (16 KiB on the wire).
  overLimit ??= [COMPRESSION.zlib, COMPRESSION.gzip].map((m) => withLen(compress(m, new Uint8Array(MAX + 1024))))
  // A valid 1 MiB message that compresses to ~1 KiB: the costly path that succeeds.
  let valid = validBombs.get(corpus)
  if (valid === undefined) {
    valid = encodeFrame({ type: 0, sender: corpus.ids[0]!, time: 1, payload: [0, new Uint8Array(1 << 20)] }, { compression: COMPRESSION.zlib })
    validBombs.set(corpus, valid)
  }
  return [...overLimit, valid]
}

/**
 * Builds input `index` of `seed` from `corpus`. Pure: the same arguments give the same bytes
 * (a corpus with a `live` generator also depends on its target's state, the same in every run).
 */
export function fuzzInput(corpus: FuzzCorpus, seed: number, index: number): FuzzInput {
  const rng = new Prng(inputSeed(seed, index))
  const kind = pickKind(rng, corpus)
  return { seed, index, kind, bytes: build(kind, rng, corpus) }
}

const KIND_TABLE = Object.entries(INPUT_KINDS) as [InputKind, number][]
const kindTables = new WeakMap<FuzzCorpus, { table: [InputKind, number][]; total: number }>()

function pickKind(rng: Prng, corpus: FuzzCorpus): InputKind {
  let t = kindTables.get(corpus)
  if (t === undefined) {
    const table = KIND_TABLE.map(([kind, w]): [InputKind, number] => [kind, corpus.weights?.[kind] ?? w])
    t = { table, total: table.reduce((s, [, w]) => s + w, 0) }
    kindTables.set(corpus, t)
  }
  let r = rng.next() * t.total
  for (const [kind, w] of t.table) if ((r -= w) < 0) return kind
  return 'random'
}

function randomLength(rng: Prng): number {
  const r = rng.next()
  return r < 0.7 ? rng.int(65) : r < 0.97 ? rng.int(1025) : rng.int(16_385)
}

function build(kind: InputKind, rng: Prng, corpus: FuzzCorpus): Uint8Array {
  const frame = (): Uint8Array => rng.pick(corpus.frames)
  const packed = (): Uint8Array => rng.pick(corpus.packed)
  const method = (): number | undefined => (corpus.compressions.length > 0 && rng.chance(0.25) ? rng.pick(corpus.compressions) : undefined)
  /** `checksummed`, with one of the corpus's K || A blocks in the signed variant. */
  const seal = (p: Uint8Array, m?: number): Uint8Array => checksummed(p, m, corpus.auth === undefined ? undefined : rng.pick(corpus.auth))
  switch (kind) {
    case 'random':
      return rng.bytes(randomLength(rng))
    case 'random-len':
      return withLen(rng.bytes(randomLength(rng)))
    case 'random-body':
      return seal(rng.chance(0.5) ? rng.bytes(randomLength(rng)) : valuesPacked(rng, corpus, true), method())
    case 'seed':
      return frame()
    case 'message':
      return randomMeshFrame(rng, corpus)
    case 'mutate': {
      let b = frame()
      for (let n = 1 + rng.int(4); n > 0; n--) b = rng.chance(0.15) ? rewriteLen(rng, b) : mutateBytes(rng, b, frame)
      return rng.chance(0.5) ? fixLen(b) : b // most mutations change the length: often fix LEN
    }
    case 'checksum': {
      let p = packed()
      for (let n = 1 + rng.int(3); n > 0; n--) {
        const nodes = rng.chance(0.75) ? walkMsgpack(p) : []
        p = nodes.length > 0 ? STRUCTURED[rng.pick(STRUCTURED_NAMES)]!(rng, p, nodes) : mutateBytes(rng, p, packed)
      }
      return seal(p, method())
    }
    case 'compressed': {
      const p = packed()
      const m = corpus.compressions.length > 0 ? rng.pick(corpus.compressions) : rng.pick([COMPRESSION.zlib, COMPRESSION.gzip])
      let c = seal(p, m).subarray(LEN_BYTES)
      for (let n = 1 + rng.int(3); n > 0; n--) {
        if (rng.chance(0.3) && c.length > 10) {
          // The parts a stream parser trusts: the header (gzip FLG and its optional fields) and the trailer.
          const out = c.slice()
          const at = rng.chance(0.5) ? rng.int(Math.min(10, c.length)) : c.length - 1 - rng.int(Math.min(8, c.length))
          out[at]! ^= 1 << rng.int(8)
          c = out
        } else c = mutateBytes(rng, c, () => seal(packed(), m).subarray(LEN_BYTES))
      }
      return rng.chance(0.9) ? withLen(c) : rewriteLen(rng, withLen(c))
    }
    case 'values':
      return seal(valuesPacked(rng, corpus, false), method())
    case 'bomb':
      return rng.pick(bombFrames(corpus))
    case 'auth':
      return withLen(authBody(rng, corpus))
    case 'live':
      return corpus.live?.(rng) ?? randomMeshFrame(rng, corpus)
  }
}

function fixLen(b: Uint8Array): Uint8Array {
  return b.length < LEN_BYTES ? b : withLen(b.subarray(LEN_BYTES))
}

// ---- running ----------------------------------------------------------------------------------

export interface FuzzTarget {
  readonly name: string
  /** Runs one input; returns an outcome label for the histogram (default 'ok'). */
  run(bytes: Uint8Array): string | void | Promise<string | void>
  /** Whether a thrown value is a documented rejection. Default: a WireError/MeshError with a known code. */
  allows?(err: unknown): boolean
  /** Health check between inputs (every `checkEvery`, and at the end); throws if the target is broken. */
  checkpoint?(): void | Promise<void>
}

/** Every code in src/errors.ts. */
export const ERROR_CODES_ALL: ReadonlySet<string> = new Set<string>([...WIRE_ERROR_CODES, ...IDENTITY_ERROR_CODES, ...TRANSPORT_ERROR_CODES, ...MESH_ERROR_CODES])

/** One line for a thrown value: its class, code and message, and where it was thrown. */
export function describeThrown(err: unknown): string {
  if (!(err instanceof Error)) return `non-Error thrown: ${typeof err} ${String(err).slice(0, 200)}`
  const code = err instanceof P2PError ? ` [${err.code}]` : ''
  const at = err.stack?.split('\n').find((l) => l.trim().startsWith('at '))?.trim() ?? ''
  return `${err.name}${code}: ${err.message.slice(0, 300)} ${at}`.trim()
}

/** A named error of the decoders, with a code from src/errors.ts. */
export function isNamedError(err: unknown): boolean {
  return (err instanceof WireError || err instanceof MeshError) && ERROR_CODES_ALL.has(err.code)
}

export interface FuzzFinding {
  target: string
  seed: number
  index: number
  kind: InputKind | 'checkpoint'
  /** CPU time the input took (user + system, this process). */
  ms: number
  /** Wall-clock time it took (longer on a busy machine). */
  wallMs?: number
  error?: string
}

export interface FuzzReport {
  target: string
  seed: number
  from: number
  inputs: number
  crashes: number
  hangs: number
  rejections: number
  /** The first findings of each sort, in order (at most 20 each). */
  crashFindings: FuzzFinding[]
  hangFindings: FuzzFinding[]
  rejectionSamples: string[]
  slowest: FuzzFinding | undefined
  elapsedMs: number
  /** Outcome label (or error code) → inputs. */
  outcomes: Map<string, number>
  kinds: Map<InputKind, number>
}

export interface FuzzRunOptions {
  seed: number
  /** Inputs to run, starting at index `from` (default 0). */
  count: number
  from?: number
  /** An input slower than this is a hang. Default 250 ms. */
  hangMs?: number
  /** Run the target's checkpoint every this many inputs. Default 2 000. */
  checkEvery?: number
  /** Called every 10 000 inputs with the index about to run (progress; find a true hang). */
  onProgress?: (index: number) => void
}

const KEEP = 20
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Runs `count` inputs through `target` and reports crashes, hangs and unhandled rejections. */
export async function runFuzz(target: FuzzTarget, corpus: FuzzCorpus, options: FuzzRunOptions): Promise<FuzzReport> {
  const { seed, count } = options
  const from = options.from ?? 0
  const hangMs = options.hangMs ?? 250
  const checkEvery = options.checkEvery ?? 2_000
  const allows = target.allows?.bind(target) ?? isNamedError
  const report: FuzzReport = {
    target: target.name, seed, from, inputs: 0, crashes: 0, hangs: 0, rejections: 0,
    crashFindings: [], hangFindings: [], rejectionSamples: [], slowest: undefined, elapsedMs: 0,
    outcomes: new Map(), kinds: new Map(),
  }
  const count1 = <K>(m: Map<K, number>, k: K): void => void m.set(k, (m.get(k) ?? 0) + 1)
  const crash = (f: FuzzFinding): void => {
    report.crashes++
    if (report.crashFindings.length < KEEP) report.crashFindings.push(f)
  }
  /** Node reports a rejection when the loop yields: it came from an input since the last yield. */
  let sinceYield = from
  const onRejection = (reason: unknown): void => {
    report.rejections++
    const where = `inputs ${sinceYield}–${from + report.inputs - 1}`
    if (report.rejectionSamples.length < KEEP) report.rejectionSamples.push(`${where}: ${describeThrown(reason)}`)
  }
  const checkpoint = async (index: number): Promise<void> => {
    try {
      await target.checkpoint?.()
    } catch (err: unknown) {
      crash({ target: target.name, seed, index, kind: 'checkpoint', ms: 0, error: describeThrown(err) })
    }
  }
  process.on('unhandledRejection', onRejection)
  const started = performance.now()
  try {
    for (let index = from; index < from + count; index++) {
      if ((index - from) % 10_000 === 0) options.onProgress?.(index)
      const input = fuzzInput(corpus, seed, index)
      count1(report.kinds, input.kind)
      const t0 = performance.now()
      const cpu0 = process.cpuUsage()
      let outcome: string
      let error: unknown
      let threw = false
      try {
        const out = target.run(input.bytes)
        outcome = (out instanceof Promise ? await out : out) ?? 'ok'
      } catch (err: unknown) {
        threw = true
        error = err
        outcome = err instanceof P2PError ? err.code : 'CRASH'
      }
      const cpu = process.cpuUsage(cpu0)
      const ms = (cpu.user + cpu.system) / 1000
      const wallMs = performance.now() - t0
      report.inputs++
      const finding: FuzzFinding = { target: target.name, seed, index, kind: input.kind, ms, wallMs }
      if (threw && !allows(error)) {
        outcome = 'CRASH'
        crash({ ...finding, error: describeThrown(error) })
      }
      count1(report.outcomes, outcome)
      if (ms > hangMs) {
        report.hangs++
        if (report.hangFindings.length < KEEP) report.hangFindings.push(finding)
      }
      if (report.slowest === undefined || ms > report.slowest.ms) report.slowest = finding
      if ((index - from + 1) % checkEvery === 0) await checkpoint(index)
      if ((index - from + 1) % 256 === 0) {
        await yieldToLoop() // lets Node report rejections close to their input
        sinceYield = index + 1
      }
    }
    if (count % checkEvery !== 0) await checkpoint(from + count - 1)
    await yieldToLoop()
  } finally {
    process.off('unhandledRejection', onRejection)
    report.elapsedMs = performance.now() - started
  }
  return report
}
