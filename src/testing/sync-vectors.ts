import { encode } from '@msgpack/msgpack'
import * as ed from '@noble/ed25519'
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js'
import { RbsrSession, RbsrStore, type RbsrItem } from '../sync/rbsr.js'
import { bytesToBigInt, concatBytes, toHex, utf8 } from '../util/bytes.js'
import { b58encode } from '../wire/base58.js'
import { jsonOf, type Json, type SyncFrameVector, type SyncMode, type SyncVectors } from './sync-vector-check.js'

/**
 * The sync table's vectors (test-only): src/wire/fixtures/vectors-sync.json, every message of
 * docs/protocol.md "Sync table" → "Messages" as a whole frame, built here from the specification
 * with msgpack, SHA-2 and Ed25519 directly (not with the codec or the sync decoders), so that
 * src/sync/vectors.test.ts and e2e/sync-vectors.spec.ts check the library against an independent
 * construction. Only the reconciliation message inside `sync_reconcile` comes from
 * src/sync/rbsr.ts (the worked example of "Anti-entropy: range-based set reconciliation").
 * Deterministic: fixed key, time, stamps and session (Ed25519 signatures are deterministic).
 * Regenerate with `npx tsx src/testing/make-vectors.ts`.
 */

ed.hashes.sha512 = sha512

/** The writer: the key of 32 bytes of 0x01, as in vectors-signed-1.json. */
const SEED = new Uint8Array(32).fill(0x01)
const TIMESTAMP = 1_500_000_000
/** The writes' hybrid clock: the same instant in ms (beyond 32 bits: msgpack uint64). */
const T = TIMESTAMP * 1000
const SESSION = 0x1234_5678
const SUBNET = ''
const MODEL = 'sync1'
const TRANSPORT = 'webrtc'
const PROTOCOL_NAME = 'sync'
const FLAG = { broadcast: 0x00, whisper: 0x02 } as const
const SUB = { store: 0x0b, retrieve: 0x0c, retrieved: 0x0d, revoke: 0x10, delta: 0x11, reconcile: 0x14, batch: 0x15 } as const
const KIND = { set: 0, delete: 1, delta: 2, release: 3 } as const

const FRAME_CONTEXT = 'p2p-today/1 frame\0'
const STATEMENT_CONTEXT = 'p2p-today/protocol-statement\0'

const protocolIdOf = (subnet: string, transport: string): string => b58encode(bytesToBigInt(sha256(utf8(subnet + transport + '0.7'))))
const nodeIdOf = (publicKey: Uint8Array): string => b58encode(bytesToBigInt(sha384(publicKey)))
const z = (n: number): Uint8Array => Uint8Array.of(n)
const withLen = (body: Uint8Array): Uint8Array => {
  const len = new Uint8Array(4)
  new DataView(len.buffer).setUint32(0, body.length, false)
  return concatBytes(len, body)
}

/** The reconciliation message: the initiator's first message of the RBSR worked example (65 bytes). */
function rbsrMessage(): Uint8Array {
  const id = (...head: number[]): Uint8Array => {
    const out = new Uint8Array(16).fill(head[head.length - 1]!)
    out.set(head.slice(0, -1))
    return out
  }
  const T0 = 1_700_000_000_000
  const items: RbsrItem[] = [
    { time: T0, id: id(0x11) },
    { time: T0, id: id(0x22) },
    { time: T0 + 300, id: id(0x33) },
    { time: T0 + 300, id: id(0x3a, 0x00, 0xdd) },
    { time: T0 + 300, id: id(0x3a, 0x5e, 0xee) },
  ]
  return new RbsrSession(new RbsrStore(items), 'initiator', { idListThreshold: 4 }).initiate()
}

export function buildSyncVectors(): SyncVectors {
  const publicKey = ed.getPublicKey(SEED)
  const A = nodeIdOf(publicKey)
  const pids: Record<SyncMode, string> = {
    unsigned: protocolIdOf(SUBNET + MODEL, TRANSPORT),
    signed: protocolIdOf(SUBNET + MODEL, TRANSPORT + '+ed25519'),
  }

  /** One frame: P = msgpack([type, bin(A), TIMESTAMP, sub, ...items]); signed broadcasts carry A's signature of the id. */
  const frame = (mode: SyncMode, packets: string, type: number, sub: number, items: unknown[], sync: unknown, extra: Partial<SyncFrameVector> = {}): SyncFrameVector => {
    const p = encode([type, utf8(A), TIMESTAMP, sub, ...items])
    const id = sha256(p)
    const v: Partial<SyncFrameVector> = { mode, route: type === FLAG.broadcast ? 'broadcast' : 'whisper', packets, type, sub, items: jsonOf(items) as Json[], sync: jsonOf(sync) }
    if (type === FLAG.broadcast) v.writer = A
    let body = concatBytes(id, p)
    if (mode === 'signed') {
      let auth = z(0x00)
      if (type === FLAG.broadcast) {
        const input = concatBytes(utf8(FRAME_CONTEXT), utf8(pids.signed), z(0), id)
        const signature = ed.sign(input, SEED)
        auth = concatBytes(z(0x01), publicKey, signature)
        Object.assign(v, { signing_input_hex: toHex(input), signature_hex: toHex(signature) })
      }
      v.auth_kind = auth[0]!
      body = concatBytes(id, auth, p)
    }
    const bytes = withLen(body)
    return { ...v, p_hex: toHex(p), id_hex: toHex(id), frame_hex: toHex(bytes), frame_len: bytes.length, ...extra } as SyncFrameVector
  }

  // The signed write: A sets 'color' to 'blue' at (T, 0).
  const setItems = [KIND.set, T, 0, A, 'blue']
  const data = sha256(encode(['color', ...setItems]))
  const statement = concatBytes(utf8(STATEMENT_CONTEXT), utf8(pids.signed), z(0), utf8(PROTOCOL_NAME), z(0), data)
  const sig = ed.sign(statement, SEED)
  const write = { key: 'color', data_hex: toHex(data), statement_hex: toHex(statement), signature_hex: toHex(sig) }

  // The signed group: A sets 'color' to 'blue' at (T, 0) and 'size' to 3 at (T, 1) in one update().
  // Each write's leaf: the first 16 bytes of its data as above; the tree's root over two leaves:
  // the first 16 bytes of sha256(0x01 || leaf 0 || leaf 1); the group's data: sha256(msgpack(['group', 2, bin(root)])).
  const leafOf = (key: string, items: unknown[]): Uint8Array => sha256(encode([key, ...items])).slice(0, 16)
  const sizeItems = [KIND.set, T, 1, A, 3]
  const colorLeaf = leafOf('color', setItems)
  const root = sha256(concatBytes(z(0x01), colorLeaf, leafOf('size', sizeItems))).slice(0, 16)
  const groupData = sha256(encode(['group', 2, root]))
  const groupStatement = concatBytes(utf8(STATEMENT_CONTEXT), utf8(pids.signed), z(0), utf8(PROTOCOL_NAME), z(0), groupData)
  const groupSig = ed.sign(groupStatement, SEED)
  const group = { root_hex: toHex(root), data_hex: toHex(groupData), statement_hex: toHex(groupStatement), signature_hex: toHex(groupSig) }

  const stamp = (ms: number, counter: number): { ms: number; counter: number } => ({ ms, counter })
  const setWrite = { kind: 'write', key: 'color', write: { kind: 'set', stamp: stamp(T, 0), value: 'blue' } }
  const logged = { kind: 'set', stamp: stamp(T, 0), writer: A, value: 'blue' }
  const rbsr = rbsrMessage()
  /**
   * A state transfer of one entry holding one write by A at (T, counter), no checkpoint, as its 12 columns:
   * [writers, keys, shared, bases, counts, kinds, ms, counters, who, values, proofs, indexes]. shared: the code
   * points the key shares with the key before (none before: 0); ms: the difference from the write before, the first
   * from 0 (so T); counters: as they are (the first write has no write before); who: A's place in writers;
   * proofs: [] when no write has one.
   */
  const columns = (key: string, counter: number, value: unknown, proofs: unknown[], indexes: number[]): unknown[] =>
    [[A], [key], [0], [], [1], [KIND.set], [T], [counter], [0], [value], proofs, indexes]
  const colorColumns = (proofs: string): string => `[[A], ['color'], [0], [], [1], [0 set], [T], [0], [0], ['blue'], ${proofs}, []]`
  const u = 'unsigned'

  const messages: Record<string, SyncFrameVector> = {
    sync_store_set: frame(u, "[0x00, bin(A), 1500000000, 0x0B store, 'color', 'blue', T, 0]", FLAG.broadcast, SUB.store, ['color', 'blue', T, 0], setWrite),
    sync_store_delete: frame(u, "[0x00, bin(A), 1500000000, 0x0B store, 'color', nil, T + 250, 0]", FLAG.broadcast, SUB.store, ['color', null, T + 250, 0], {
      kind: 'write',
      key: 'color',
      write: { kind: 'delete', stamp: stamp(T + 250, 0) },
    }),
    sync_delta: frame(u, "[0x00, bin(A), 1500000000, 0x11 delta, 'doc', {'title': 'hi'}, T, 1]", FLAG.broadcast, SUB.delta, ['doc', { title: 'hi' }, T, 1], {
      kind: 'write',
      key: 'doc',
      write: { kind: 'delta', stamp: stamp(T, 1), value: { title: 'hi' } },
    }),
    sync_revoke: frame(u, "[0x00, bin(A), 1500000000, 0x10 revoke, 'doc', T + 500, 0]", FLAG.broadcast, SUB.revoke, ['doc', T + 500, 0], {
      kind: 'write',
      key: 'doc',
      write: { kind: 'release', stamp: stamp(T + 500, 0) },
    }),
    sync_entries: frame(u, `[0x02, bin(A), 1500000000, 0x0B store, ${colorColumns('[]')}]`, FLAG.whisper, SUB.store, [columns('color', 0, 'blue', [], [])], {
      kind: 'entries',
      entries: [['color', { log: [logged] }]],
      keys: [],
    }),
    sync_reconcile: frame(u, '[0x02, bin(A), 1500000000, 0x14 reconcile, 0x12345678, bin(65 bytes of RBSR)]', FLAG.whisper, SUB.reconcile, [SESSION, rbsr], {
      kind: 'reconcile',
      session: SESSION,
      bytes: rbsr,
    }),
    sync_retrieve: frame(u, '[0x02, bin(A), 1500000000, 0x0C retrieve, 0x12345678, []]', FLAG.whisper, SUB.retrieve, [SESSION, []], { kind: 'retrieve', session: SESSION }),
    sync_retrieved: frame(u, '[0x02, bin(A), 1500000000, 0x0D retrieved, 0x12345678, 1]', FLAG.whisper, SUB.retrieved, [SESSION, 1], { kind: 'retrieved', session: SESSION, sent: 1 }),
    sync_signed_store_set: frame(
      'signed',
      "[0x00, bin(A), 1500000000, 0x0B store, 'color', 'blue', T, 0, bin(sig)]",
      FLAG.broadcast,
      SUB.store,
      ['color', 'blue', T, 0, sig],
      { ...setWrite, write: { ...setWrite.write, sig } },
      { write },
    ),
    sync_signed_entries: frame(
      'signed',
      `[0x02, bin(A), 1500000000, 0x0B store, ${colorColumns('[bin(sig)]')}, [[A, bin(public key)]]]`,
      FLAG.whisper,
      SUB.store,
      [columns('color', 0, 'blue', [sig], []), [[A, publicKey]]],
      { kind: 'entries', entries: [['color', { log: [{ ...logged, sig }] }]], keys: [[A, publicKey]] },
      { write },
    ),
    sync_signed_batch: frame(
      'signed',
      "[0x00, bin(A), 1500000000, 0x15 batch, [['color', 0 set, T, 0, 'blue'], ['size', 0 set, T, 1, 3]], bin(group sig)]",
      FLAG.broadcast,
      SUB.batch,
      [
        [
          ['color', KIND.set, T, 0, 'blue'],
          ['size', KIND.set, T, 1, 3],
        ],
        groupSig,
      ],
      {
        kind: 'batch',
        writes: [
          ['color', { kind: 'set', value: 'blue', stamp: stamp(T, 0) }],
          ['size', { kind: 'set', value: 3, stamp: stamp(T, 1) }],
        ],
        sig: groupSig,
      },
      { group },
    ),
    // The 'size' write of that group alone: the group goes beside it with the tree node its root needs besides
    // the carried write's leaf: the leaf of 'color' (level 0, index 0). Its proof: the group's place in the list (0);
    // its index: its place in the group (1) minus one more than the place of the group's write before it (none: −1), so 1.
    // The decoder's group: writer, sig, size, tree (its size).
    sync_signed_entries_group: frame(
      'signed',
      "[0x02, bin(A), 1500000000, 0x0B store, [[A], ['size'], [0], [], [1], [0 set], [T], [1], [0], [3], [0], [1]], [[A, bin(public key)]], [[A, bin(group sig), 2, [[0, 0, bin(leaf of 'color')]]]]]",
      FLAG.whisper,
      SUB.store,
      [columns('size', 1, 3, [0], [1]), [[A, publicKey]], [[A, groupSig, 2, [[0, 0, colorLeaf]]]]],
      {
        kind: 'entries',
        entries: [
          [
            'size',
            { log: [{ kind: 'set', value: 3, stamp: stamp(T, 1), writer: A, group: { writer: A, sig: groupSig, size: 2, tree: { size: 2 } }, index: 1 }] },
          ],
        ],
        keys: [[A, publicKey]],
      },
      { group },
    ),
  }
  return {
    about:
      'Test vectors for the sync table\'s messages (docs/protocol.md, "Sync table" → "Messages"), built from the ' +
      'specification by src/testing/sync-vectors.ts (npx tsx src/testing/make-vectors.ts). Writer A: the Ed25519 key of the ' +
      "seed below, node id base58(int(SHA-384(public key))), the frames' sender (msgpack bin). Protocol ids: " +
      "protocolId(subnet + 'sync1', transport) unsigned (0.7 frames), protocolId(subnet + 'sync1', transport + '+ed25519') " +
      'signed (signed frames: broadcasts K = 0x01, whispers K = 0x00). T = timestamp × 1000 ms. items: the payload after ' +
      'the sub flag; sync: what the sync decoder yields; bytes are { bin: hex }. write: a signed write\'s statement ' +
      "(utf8('p2p-today/protocol-statement') 0x00 protocol id 0x00 'sync' 0x00 data) and A's signature of it. group: writes signed together (a flooded batch, or a state transfer naming the group): " +
      "the root of the hash tree over the leaves (each write's data above, first 16 bytes, in order; a node: the first 16 bytes of " +
      "sha256(0x01 || left || right)), data = sha256(msgpack(['group', size, bin(root)])), its " +
      "statement (framed as a write's) and A's signature of it.",
    seed_hex: toHex(SEED),
    public_key_hex: toHex(publicKey),
    node_id: A,
    subnet: SUBNET,
    model: MODEL,
    transport: TRANSPORT,
    protocol_name: PROTOCOL_NAME,
    timestamp: TIMESTAMP,
    protocol_ids: pids,
    messages,
  }
}

/** The fixture's text: JSON with a one-space indent, as the other vectors. */
export function syncVectorsJson(): string {
  return `${JSON.stringify(buildSyncVectors(), null, 1)}\n`
}
