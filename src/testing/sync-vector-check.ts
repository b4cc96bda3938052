import { statementInput } from '../mesh/port.js'
import { decodeMeshMessage, meshFrame, type MeshMessage } from '../mesh/messages.js'
import { SYNC_DEFAULTS } from '../sync/options.js'
import { batchItems, syncClaims, type SyncMessage } from '../sync/messages.js'
import { transferColumns, WireGroups } from '../sync/transfer.js'
import { groupStatement, treeOf, writeLeaf, writeStatement, type Write, type WriteGroup } from '../sync/write.js'
import { fromHex, toHex } from '../util/bytes.js'
import { decodeFrame, encodeFrame } from '../wire/frame.js'
import type { Identity } from '../wire/identity.js'
import { signingInput, type SignatureVerifier } from '../wire/signed.js'
import { meshRegistry } from './mesh-registry.js'

/**
 * Checks one sync-table vector (src/wire/fixtures/vectors-sync.json, built by sync-vectors.ts)
 * with the library's own code, the way a node handles the frame: decodeFrame, then
 * decodeMeshMessage with a registry holding the sync table's claims; then re-encodes what was
 * decoded (the items a SyncSocket sends for that message, the mesh's framing, the frame signed by
 * `identity`), and re-signs and verifies a signed write's statement. Test-only; runs in Node
 * (src/sync/vectors.test.ts) and in Chromium (e2e/sync-vectors.spec.ts), where `identity` and
 * `verifier` use WebCrypto. A group of writes (flooded batch, or named by a state transfer) is
 * checked the same way over the group's statement, its leaves completed as a receiver does.
 */

/** A value as the vectors write it in JSON: bytes as `{ bin: hex }`, a Map as its [key, value] pairs, undefined fields left out. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

export function jsonOf(v: unknown): Json {
  if (v instanceof Uint8Array) return { bin: toHex(v) }
  if (v instanceof Map) return [...v.entries()].map(([k, x]) => [jsonOf(k), jsonOf(x)])
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : jsonOf(x)))
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v
  if (typeof v === 'object') {
    const out: Record<string, Json> = {}
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = jsonOf(x)
    return out
  }
  throw new TypeError(`no JSON form for ${typeof v}`)
}

/** The inverse of jsonOf for wire items: `{ bin: hex }` back to bytes. */
export function fromJson(v: Json): unknown {
  if (Array.isArray(v)) return v.map(fromJson)
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v)
    if (keys.length === 1 && keys[0] === 'bin' && typeof v.bin === 'string') return fromHex(v.bin)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromJson(x)]))
  }
  return v
}

export type SyncMode = 'unsigned' | 'signed'

export interface SyncFrameVector {
  mode: SyncMode
  route: 'broadcast' | 'whisper'
  /** The frame's P, in words. */
  packets: string
  /** Main flag, then the sub flag (the first payload item). */
  type: number
  sub: number
  /** The items after the sub flag, as JSON (jsonOf). */
  items: Json[]
  /** What the sync table's decoder yields (jsonOf of a SyncMessage). */
  sync: Json
  /** A flooded write's writer: the frame's sender. */
  writer?: string
  p_hex: string
  id_hex: string
  /** Signed mode: 0x01 signed (broadcasts), 0x00 link-authenticated (whispers). */
  auth_kind?: number
  signing_input_hex?: string
  signature_hex?: string
  frame_hex: string
  frame_len: number
  /** A signed write: sha256(msgpack([key, kind, ms, counter, writer, value | nil])), the statement around it, and the writer's signature. */
  write?: { key: string; data_hex: string; statement_hex: string; signature_hex: string }
  /**
   * Writes signed together: the root of the hash tree over their leaves (each write's data, first
   * 16 bytes, in the group's order), sha256(msgpack(['group', size, bin(root)])), the statement
   * around it, and the writer's signature.
   */
  group?: { root_hex: string; data_hex: string; statement_hex: string; signature_hex: string }
}

export interface SyncVectors {
  about: string
  seed_hex: string
  public_key_hex: string
  node_id: string
  subnet: string
  model: string
  transport: string
  protocol_name: string
  timestamp: number
  protocol_ids: Record<SyncMode, string>
  messages: Record<string, SyncFrameVector>
}

/** What checkSyncVector found: each field to compare with the vector's. */
export interface SyncVectorCheck {
  frame_hex: string
  id_hex: string
  type: number
  sender: string
  time: number
  sub: number
  items: Json
  sync: Json
  /** Signed broadcasts: the frame's signature (the re-encoding's) and whether the received one verifies as the sender's. */
  signature_hex?: string
  frame_signature_ok?: boolean
  write?: StatementCheck
  /** A grouped write's group (flooded batch, or named by a state transfer): as `write`, over the group's statement. */
  group?: StatementCheck & { root_hex: string }
}

/** A signed statement, built again and checked. */
export interface StatementCheck {
  data_hex: string
  statement_hex: string
  /** The statement signed again by `identity`. */
  signature_hex: string
  /** The received signature verifies with the frame's (flooded) or the batch's (state transfer) key for the writer. */
  ok: boolean
  /** The same with one byte of the signature flipped, with the 0.7 mode's protocol id, with another protocol name: all false. */
  flipped_ok: boolean
  other_protocol_id_ok: boolean
  other_name_ok: boolean
}

/** The items a SyncSocket sends for `m` (sync-socket.ts #write, anti-entropy.ts). */
export function syncItems(m: SyncMessage): unknown[] {
  const sigOf = (w: Omit<Write, 'writer'>): Uint8Array[] => (w.sig === undefined ? [] : [w.sig])
  switch (m.kind) {
    case 'write': {
      const { key, write: w } = m
      const s = w.stamp
      if (w.kind === 'release') return [key, s.ms, s.counter, ...sigOf(w)]
      return [key, w.kind === 'delete' ? null : w.value, s.ms, s.counter, ...sigOf(w)]
    }
    case 'batch':
      return [m.writes.map(([key, w]) => batchItems(key, { ...w, writer: '' })), ...(m.sig === undefined ? [] : [m.sig])]
    case 'entries': {
      const groups = new WireGroups()
      const batch = transferColumns(m.entries, groups)
      if (groups.size > 0) return [batch, [...m.keys.entries()], groups.items()]
      return m.keys.size === 0 ? [batch] : [batch, [...m.keys.entries()]]
    }
    case 'reconcile':
      return [m.session, m.bytes]
    case 'retrieve':
      return [m.session, []]
    case 'retrieved':
      return [m.session, m.sent]
  }
}

const registry = meshRegistry({ name: 'sync', claims: syncClaims({ maxKeyBytes: SYNC_DEFAULTS.maxKeyBytes, maxValueBytes: SYNC_DEFAULTS.maxValueBytes }), onMessage: () => {} })

/** The write a decoded message carries that the vector records a signature of: [key, write with its writer]. */
function signedWrite(m: SyncMessage, origin: string): [string, Write] | undefined {
  if (m.kind === 'write') return m.write.sig === undefined ? undefined : [m.key, { ...m.write, writer: origin }]
  if (m.kind !== 'entries') return undefined
  for (const [key, state] of m.entries) for (const w of state.log) if (w.sig !== undefined) return [key, w]
  return undefined
}

/**
 * The group of a decoded message's grouped writes and its tree's root: a flooded batch's over its
 * writes' leaves (the writer is the frame's origin); a state transfer's from the tree nodes it
 * gave and the leaves of the writes it carries (as a receiver computes it).
 */
function signedGroup(m: SyncMessage, origin: string): { writer: string; sig: Uint8Array; size: number; root: Uint8Array } | undefined {
  if (m.kind === 'batch') {
    if (m.sig === undefined) return undefined
    const tree = treeOf(m.writes.map(([key, w]) => [key, { ...w, writer: origin }]))
    return { writer: origin, sig: m.sig, size: tree.size, root: tree.root! }
  }
  if (m.kind !== 'entries') return undefined
  let group: WriteGroup | undefined
  for (const [key, state] of m.entries) {
    for (const w of state.base === undefined ? state.log : [state.base.horizon, ...state.log]) {
      if (w.group === undefined) continue
      group ??= w.group
      if (w.group === group) group.tree.set(0, w.index!, writeLeaf(key, w))
    }
  }
  const root = group?.tree.fill()
  return group && root && { writer: group.writer, sig: group.sig, size: group.size, root }
}

/** Whether `sig` is the writer's over `data` (ok), and with a byte flipped, the other mode's protocol id, another name. */
async function statementChecks(
  vectors: SyncVectors,
  pid: string,
  data: Uint8Array,
  sig: Uint8Array,
  writer: string,
  publicKey: Uint8Array,
  crypto: { identity: Identity; verifier: SignatureVerifier },
): Promise<{ data_hex: string; statement_hex: string; signature_hex: string; ok: boolean; flipped_ok: boolean; other_protocol_id_ok: boolean; other_name_ok: boolean }> {
  const statement = statementInput(pid, vectors.protocol_name, data)
  const verifies = async (input: Uint8Array, signature: Uint8Array): Promise<boolean> =>
    crypto.verifier.idMatches(publicKey, writer) && (await crypto.verifier.verify(publicKey, input, signature))
  const flipped = sig.slice()
  flipped[17] = flipped[17]! ^ 0x01
  return {
    data_hex: toHex(data),
    statement_hex: toHex(statement),
    signature_hex: toHex(await crypto.identity.sign(statement)),
    ok: await verifies(statement, sig),
    flipped_ok: await verifies(statement, flipped),
    other_protocol_id_ok: await verifies(statementInput(vectors.protocol_ids.unsigned, vectors.protocol_name, data), sig),
    other_name_ok: await verifies(statementInput(pid, 'user', data), sig),
  }
}

export async function checkSyncVector(
  vectors: SyncVectors,
  v: SyncFrameVector,
  crypto: { identity: Identity; verifier: SignatureVerifier },
): Promise<SyncVectorCheck> {
  const signed = v.mode === 'signed'
  const pid = vectors.protocol_ids[v.mode]
  const frame = decodeFrame(fromHex(v.frame_hex), signed ? { variant: 'signed' } : {})
  const message = decodeMeshMessage(frame, registry)
  if ((message.kind !== 'broadcast' && message.kind !== 'whisper') || message.sub === undefined) throw new TypeError(`not a sync message: ${message.kind}`)
  if (message.claim?.protocol.name !== 'sync') throw new TypeError('not claimed by the sync table')
  const sync = message.value as SyncMessage
  const out: SyncVectorCheck = {
    frame_hex: '',
    id_hex: toHex(frame.id),
    type: frame.type,
    sender: frame.sender,
    time: frame.time,
    sub: message.sub,
    items: jsonOf(message.payload),
    sync: jsonOf(sync),
  }

  // Re-encoded from what was decoded: the items a node sends, the mesh's frame, signed by `identity` when flooded.
  const again: MeshMessage = { kind: message.kind, sub: message.sub, payload: syncItems(sync) }
  const msg = meshFrame(again, frame.sender, frame.time)
  let auth: { publicKey: Uint8Array; signature: Uint8Array } | undefined
  if (signed && frame.auth !== undefined) {
    const { verifier } = crypto
    const received = frame.auth
    out.frame_signature_ok = verifier.idMatches(received.publicKey, frame.sender) && (await verifier.verify(received.publicKey, signingInput(pid, frame.id), received.signature))
    auth = { publicKey: crypto.identity.publicKey, signature: await crypto.identity.sign(signingInput(pid, frame.id)) }
    out.signature_hex = toHex(auth.signature)
  }
  out.frame_hex = toHex(encodeFrame(msg, signed ? { variant: 'signed', ...(auth === undefined ? {} : { auth }) } : {}))

  const keyOf = (writer: string): Uint8Array => {
    const publicKey = sync.kind === 'entries' ? sync.keys.get(writer) : frame.auth?.publicKey
    if (publicKey === undefined) throw new TypeError(`no public key for writer ${writer}`)
    return publicKey
  }
  const found = signed ? signedWrite(sync, frame.sender) : undefined
  if (found !== undefined) {
    const [key, w] = found
    out.write = await statementChecks(vectors, pid, writeStatement(key, w), w.sig!, w.writer, keyOf(w.writer), crypto)
  }
  const group = signed ? signedGroup(sync, frame.sender) : undefined
  if (group !== undefined) {
    const checks = await statementChecks(vectors, pid, groupStatement(group.size, group.root), group.sig, group.writer, keyOf(group.writer), crypto)
    out.group = { root_hex: toHex(group.root), ...checks }
  }
  return out
}

