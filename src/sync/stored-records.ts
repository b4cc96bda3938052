import { packArray, unpackArray } from '../wire/payload.js'
import type { KeyState } from './key-state.js'
import { ChunkGroups, own, type StoredGroups } from './stored-groups.js'
import { decodeColumns, transferColumns } from './transfer.js'
import { decodeEntry, entryItems, type Bounds, type GroupCodec } from './write-codec.js'

/**
 * The sync table's stored records (docs/protocol.md, "Persistence"), pure: a key's `k:` record
 * (a row) and the snapshot chunks (columns). The persister decides what to write and when.
 */

/** A snapshot chunk holds at most this many entries, and stops growing past this many bytes. */
export const CHUNK_ENTRIES = 256
export const CHUNK_BYTES = 32_768

/** Bytes of a key's anti-entropy item id (table.ts Item, keyStateDigest). */
const ID_BYTES = 16

/** A restored key: its state and stored item id (undefined in records written before ids were). */
export type RestoredRow = [key: string, state: KeyState, id: Uint8Array | undefined]

/** A key as stored: the entry as transferred (a grouped write's proof: [group's sig, index]), then its item id. */
export function storedItems(key: string, state: KeyState, id: Uint8Array, groups: StoredGroups): unknown[] {
  // Structured clone copies a view's whole buffer: a signature decoded from a frame or a chunk is
  // a view into it, so it is copied out, to store its own bytes only.
  return own([...entryItems(key, state, groups), id]) as unknown[]
}

/** One stored entry, [key, checkpoint | nil, [write, ...], id?] (records written before ids had none). */
export function decodeStored(e: unknown, bounds: Bounds, groups: GroupCodec): RestoredRow {
  if (Array.isArray(e) && e.length === 4) {
    const id: unknown = e[3]
    if (!(id instanceof Uint8Array) || id.length !== ID_BYTES) throw new TypeError('a stored entry ends with its 16-byte item id')
    return [...decodeEntry(e.slice(0, 3), bounds, groups), id]
  }
  return [...decodeEntry(e, bounds, groups), undefined]
}

/** The first item of a chunk in columns (CHUNK_COLUMNS); a chunk of rows starts with an entry, an array. */
const CHUNK_COLUMNS = 2

/**
 * Adds a chunk's entries to `rows`; returns how many did not decode. A chunk is either
 * `[2, columns, ids, sigs]` (the columns of a state transfer, transfer.ts; `ids` the entries'
 * item ids end to end, 16 bytes each; `sigs` the signatures of the groups its grouped writes
 * name, a write's group place indexing them) or, as older versions wrote, an array of stored
 * entries. A chunk of columns decodes whole or not at all (counted as one).
 */
export function decodeChunk(record: unknown, bounds: Bounds, rows: Map<string, RestoredRow>, groups: StoredGroups): number {
  if (!(record instanceof Uint8Array)) throw new TypeError('a snapshot chunk is bytes')
  const entries = unpackArray(record, { maxItems: record.length, maxDepth: 1_000, maxBytes: record.length })
  if (entries[0] === CHUNK_COLUMNS) {
    const [, columns, ids, sigs] = entries
    if (entries.length !== 4 || !(ids instanceof Uint8Array) || !Array.isArray(sigs)) throw new TypeError('a chunk is [2, columns, ids, sigs]')
    const decoded = decodeColumns(columns, bounds, new ChunkGroups(groups, sigs))
    if (ids.length !== decoded.length * ID_BYTES) throw new TypeError('a chunk holds an id per entry')
    decoded.forEach(([key, state], e) => rows.set(key, [key, state, ids.subarray(e * ID_BYTES, (e + 1) * ID_BYTES)]))
    return 0
  }
  let bad = 0
  for (const e of entries) {
    try {
      const row = decodeStored(e, bounds, groups)
      rows.set(row[0], row)
    } catch {
      bad++
    }
  }
  return bad
}

/**
 * Rows as chunks of columns: CHUNK_ENTRIES at most, closed past about CHUNK_BYTES (counting 24
 * bytes a write at least, so a chunk holds far fewer than the MAX_TRANSFER_WRITES writes one set
 * of columns may hold). Columns, as a state transfer sends them, because a
 * write then costs no array of its own and its writer and group are places in a list: a table of
 * 10,000 grouped keys is about half the bytes it was as rows (each write carried its writer's id
 * and its group's 64-byte signature), and faster both to write and to read back.
 */
export function encodeChunks(source: Iterable<[string, KeyState, Uint8Array]>, groups: StoredGroups): Uint8Array[] {
  const chunks: Uint8Array[] = []
  let rows: Array<[string, KeyState]> = []
  let ids: Uint8Array[] = []
  let bytes = 0
  const close = (): void => {
    const local = new ChunkGroups(groups)
    const columns = transferColumns(rows, local)
    const joined = new Uint8Array(ids.length * ID_BYTES)
    ids.forEach((id, e) => joined.set(id, e * ID_BYTES))
    chunks.push(packArray([CHUNK_COLUMNS, columns, joined, local.sigs()]))
    ;[rows, ids, bytes] = [[], [], 0]
  }
  for (const [key, state, id] of source) {
    rows.push([key, state])
    ids.push(id)
    bytes += key.length + roughBytes(state.log.map((w) => w.value)) + 24 * (state.log.length + 1)
    if (rows.length >= CHUNK_ENTRIES || bytes >= CHUNK_BYTES) close()
  }
  if (rows.length > 0) close()
  return chunks
}

/** About the msgpack size of a stored entry, without encoding it (one encoding a chunk is much cheaper than one an entry). */
function roughBytes(v: unknown): number {
  if (typeof v === 'string') return v.length + 5 // exact for ASCII
  if (v instanceof Uint8Array) return v.length + 5
  if (Array.isArray(v)) {
    let n = 3
    for (const x of v) n += roughBytes(x)
    return n
  }
  if (typeof v === 'object' && v !== null) {
    let n = 3
    for (const [k, x] of Object.entries(v)) n += k.length + 1 + roughBytes(x)
    return n
  }
  return typeof v === 'number' ? 5 : 1
}
