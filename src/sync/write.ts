import { sha256 } from '@noble/hashes/sha2.js'
import { packArray } from '../wire/payload.js'
import { compareHlc, type Hlc } from './hlc.js'
import { GroupTree, MAX_TREE_LEAVES, NODE_BYTES } from './group-tree.js'

/**
 * One write to one key of the sync table, as every replica keeps it. Writes are the unit of
 * replication: a replica's table is a pure function of the set of writes it holds
 * (key-state.ts), so replicas holding the same writes show the same table whatever order the
 * writes came in.
 */
export type WriteKind = 'set' | 'delete' | 'delta' | 'release'

export interface Write {
  readonly kind: WriteKind
  /** The writer's hybrid logical clock when it wrote: orders writes without trusting wall clocks. */
  readonly stamp: Hlc
  /** The node that wrote (the message's origin: proven by its signature in the signed mode). */
  readonly writer: string
  /** set: the new value; delta: the fields to merge (a plain object); delete and release: none. */
  readonly value?: unknown
  /**
   * Signed mode: the writer's signature over `writeStatement(key, write)` (MeshPort.sign), so any
   * node can relay the write and every replica can check who wrote it. Not part of the identity.
   */
  readonly sig?: Uint8Array
  /**
   * Signed mode, a write made in a group (one `update()`): the group whose one signature covers
   * every write in it, and this write's place there (instead of `sig`). Not part of the identity.
   */
  readonly group?: WriteGroup
  readonly index?: number
}

/**
 * Writes signed together: `sig` is the writer's signature over `groupStatement(size, root)`,
 * where root is the root of the hash tree (group-tree.ts) over the group's leaves, one
 * `writeLeaf` per write, in order. Any subset of the writes is proven by their leaves and a few
 * nodes of the tree; `tree` holds the nodes this node knows (as decoded: the ones a message gave).
 */
export interface WriteGroup {
  readonly writer: string
  readonly sig: Uint8Array
  readonly size: number
  readonly tree: GroupTree
}

/** Bytes of one write's leaf in a group. */
export const LEAF_BYTES = NODE_BYTES
/** Writes in one group at most (a flooded batch). */
export const MAX_GROUP = MAX_TREE_LEAVES

/** The kinds as numbers on the wire, in this order. */
export const WRITE_KINDS: readonly WriteKind[] = ['set', 'delete', 'delta', 'release']

/**
 * The total order on writes: the stamp, then the writer's id (as strings compare), then the
 * content's digest — two different writes with one stamp and writer (only a faulty or hostile
 * writer makes them) still order the same everywhere.
 */
export function compareWrites(a: Write, b: Write): number {
  const byStamp = compareHlc(a.stamp, b.stamp)
  if (byStamp !== 0) return byStamp
  if (a.writer !== b.writer) return a.writer < b.writer ? -1 : 1
  return compareBytes(writeDigest(a), writeDigest(b))
}

/** Whether `a` and `b` are the same write (same stamp, writer and content). */
export function sameWrite(a: Write, b: Write): boolean {
  return compareWrites(a, b) === 0
}

const digests = new WeakMap<Write, Uint8Array>()

/** 16 bytes identifying a write's whole content (kind, stamp, writer, value): sha256 of its canonical encoding. */
export function writeDigest(w: Write): Uint8Array {
  let d = digests.get(w)
  if (d === undefined) {
    d = sha256(packArray(hashItems(w))).subarray(0, 16)
    digests.set(w, d)
  }
  return d
}

/**
 * A value as hashed and signed, the same whatever order a map's keys came in: a JS object cannot
 * hold every key order (integer-like keys always come first), so a map decoded and encoded again
 * may change its bytes. Arrays become ['a', ...items] and maps ['m', key, value, ...] with the
 * keys sorted, at every depth (tagged, so no array hashes like a map); other values stay.
 */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return ['a', ...v.map(canonical)]
  if (!isMap(v)) return v
  const out: unknown[] = ['m']
  for (const k of Object.keys(v).sort()) out.push(k, canonical(v[k]))
  return out
}

/** The write's content for hashing and signing: `writeItems` with the value canonical. */
export function hashItems(w: Write): unknown[] {
  const items = writeItems(w)
  items[4] = canonical(items[4])
  return items
}

/** The write's content as wire items: [kind, ms, counter, writer, value | nil]. */
export function writeItems(w: Write): unknown[] {
  return [WRITE_KINDS.indexOf(w.kind), w.stamp.ms, w.stamp.counter, w.writer, w.kind === 'set' || w.kind === 'delta' ? (w.value ?? null) : null]
}

/**
 * The write as transferred: its content, then in the signed mode its proof: its signature, or
 * its place in its group as `groupRef` names it (the group travels beside the writes).
 */
export function transferItems(w: Write, groupRef?: (g: WriteGroup, index: number) => unknown): unknown[] {
  const items = writeItems(w)
  if (w.sig !== undefined) items.push(w.sig)
  else if (w.group !== undefined && groupRef !== undefined) items.push(groupRef(w.group, w.index!))
  return items
}

/** A write's leaf in its group: the first LEAF_BYTES of its statement. */
export function writeLeaf(key: string, w: Write): Uint8Array {
  return writeStatement(key, w).subarray(0, LEAF_BYTES)
}

/** The whole hash tree over these writes' leaves, in order (its root computed). */
export function treeOf(writes: ReadonlyArray<readonly [string, Write]>): GroupTree {
  const tree = new GroupTree(writes.length)
  writes.forEach(([key, w], i) => tree.set(0, i, writeLeaf(key, w)))
  tree.fill()
  return tree
}

/** What a writer signs for a group of writes: sha256 of msgpack(['group', size, root]). */
export function groupStatement(size: number, root: Uint8Array): Uint8Array {
  return sha256(packArray(['group', size, root]))
}

const statements = new WeakMap<Write, { key: string; statement: Uint8Array }>()

/**
 * What a writer signs: sha256 of [key, ...content] (the value canonical), so a signature holds for
 * one key and one write. Remembered per write (a received write's is needed for its group's tree
 * and again for its leaf check).
 */
export function writeStatement(key: string, w: Write): Uint8Array {
  const known = statements.get(w)
  if (known !== undefined && known.key === key) return known.statement
  const statement = sha256(packArray([key, ...hashItems(w)]))
  statements.set(w, { key, statement })
  return statement
}

/** `w` in `group` (at `index`): the same write, so its remembered statement and digest go with it. */
export function inGroup(w: Write, group: WriteGroup, index = w.index): Write {
  const out: Write = index === undefined ? { ...w, group } : { ...w, group, index }
  const statement = statements.get(w)
  if (statement !== undefined) statements.set(out, statement)
  const digest = digests.get(w)
  if (digest !== undefined) digests.set(out, digest)
  return out
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

/** A plain object: the map values deltas merge into (msgpack maps arrive as plain objects). */
export function isMap(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return false
  const proto: unknown = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}
