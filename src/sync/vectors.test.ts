import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { decodeMeshMessage } from '../mesh/messages.js'
import { meshRegistry } from '../testing/mesh-registry.js'
import { checkSyncVector, type StatementCheck, type SyncFrameVector, type SyncVectors } from '../testing/sync-vector-check.js'
import { syncVectorsJson } from '../testing/sync-vectors.js'
import { thrownCode } from '../testing/thrown-code.js'
import { fromHex } from '../util/bytes.js'
import { decodeFrame } from '../wire/frame.js'
import { Identity } from '../wire/identity.js'
import { protocolId } from '../wire/ids.js'
import { SignatureVerifier, signedProtocolId } from '../wire/signed.js'
import { SYNC_DEFAULTS } from './options.js'
import { syncClaims } from './messages.js'

// The sync table's vectors (docs/protocol.md, "Sync table" → "Messages"): built from the
// specification by src/testing/sync-vectors.ts, decoded here as a node decodes them (the mesh's
// frame decoder, then the sync claims), re-encoded, and the signed write checked with both
// signature backends. In Chromium: e2e/sync-vectors.spec.ts. The docs' examples: below.
const FIXTURE = new URL('../wire/fixtures/vectors-sync.json', import.meta.url)
const vectors = JSON.parse(readFileSync(FIXTURE, 'utf8')) as SyncVectors
const BACKENDS = ['noble', 'webcrypto'] as const
const seed = fromHex(vectors.seed_hex)
const publicKey = fromHex(vectors.public_key_hex)
const IDS = [
  'sync_store_set',
  'sync_store_delete',
  'sync_delta',
  'sync_revoke',
  'sync_entries',
  'sync_reconcile',
  'sync_retrieve',
  'sync_retrieved',
  'sync_signed_store_set',
  'sync_signed_entries',
  'sync_signed_batch',
  'sync_signed_entries_group',
]

const crypto = async (backend: (typeof BACKENDS)[number]): Promise<{ identity: Identity; verifier: SignatureVerifier }> => ({
  identity: await Identity.fromKeyPair({ publicKey, secretKey: seed }, { backend }),
  verifier: new SignatureVerifier({ backend }),
})

/** A statement built again matches the vector's, and only the received signature verifies. */
function expectStatement(got: StatementCheck, want: { data_hex: string; statement_hex: string; signature_hex: string }, backend: string): void {
  expect(got.data_hex).toBe(want.data_hex)
  expect(got.statement_hex).toBe(want.statement_hex)
  expect(got.signature_hex, backend).toBe(want.signature_hex)
  expect({ ok: got.ok, flipped: got.flipped_ok, pid: got.other_protocol_id_ok, name: got.other_name_ok }, backend).toEqual({ ok: true, flipped: false, pid: false, name: false })
}

describe('sync table vectors (vectors-sync.json)', () => {
  it('the fixture is what src/testing/sync-vectors.ts builds, and holds every message kind', () => {
    expect(readFileSync(FIXTURE, 'utf8')).toBe(syncVectorsJson())
    expect(Object.keys(vectors.messages)).toEqual(IDS)
  })

  it('protocol ids: the subnet plus the model tag, in either mode', () => {
    expect(vectors.protocol_ids.unsigned).toBe(protocolId(vectors.subnet + vectors.model, vectors.transport))
    expect(vectors.protocol_ids.signed).toBe(signedProtocolId(vectors.subnet + vectors.model, vectors.transport))
  })

  for (const id of IDS) {
    const v: SyncFrameVector = vectors.messages[id]!
    it(`${id}: decodes to the recorded items and sync message, and re-encodes byte for byte`, async () => {
      for (const backend of v.mode === 'signed' ? BACKENDS : (['noble'] as const)) {
        const got = await checkSyncVector(vectors, v, await crypto(backend))
        expect(got.frame_hex, backend).toBe(v.frame_hex)
        expect(got.frame_hex.length / 2).toBe(v.frame_len)
        expect(got.id_hex).toBe(v.id_hex)
        expect([got.type, got.sender, got.time, got.sub]).toEqual([v.type, vectors.node_id, vectors.timestamp, v.sub])
        expect(got.items).toEqual(v.items)
        expect(got.sync).toEqual(v.sync)
        if (v.signature_hex !== undefined) {
          expect(got.signature_hex, backend).toBe(v.signature_hex)
          expect(got.frame_signature_ok, backend).toBe(true)
        }
        expect(got.write === undefined).toBe(v.write === undefined)
        if (v.write !== undefined && got.write !== undefined) expectStatement(got.write, v.write, backend)
        expect(got.group === undefined).toBe(v.group === undefined)
        if (v.group !== undefined && got.group !== undefined) {
          expect(got.group.root_hex).toBe(v.group.root_hex)
          expectStatement(got.group, v.group, backend)
        }
      }
    })
  }

  it('a signed write carries the same signature flooded and in a state transfer', () => {
    const flooded = vectors.messages.sync_signed_store_set!
    const batch = vectors.messages.sync_signed_entries!
    expect(flooded.write).toEqual(batch.write)
    expect(flooded.items[4]).toEqual({ bin: flooded.write!.signature_hex })
  })

  it('a group carries the same signature flooded and in a state transfer, which gives the tree node beside the write it carries', () => {
    const flooded = vectors.messages.sync_signed_batch!
    const transfer = vectors.messages.sync_signed_entries_group!
    expect(flooded.group).toEqual(transfer.group)
    expect(flooded.items[1]).toEqual({ bin: flooded.group!.signature_hex })
    const [[writer, sig, size, given]] = transfer.items[2] as [[string, { bin: string }, number, [[number, number, { bin: string }]]]]
    expect([writer, sig, size]).toEqual([vectors.node_id, { bin: flooded.group!.signature_hex }, 2])
    // 'color' is the batch's first write: the node given is its leaf (level 0, index 0), the first 16 bytes of its data.
    expect(given).toEqual([[0, 0, { bin: vectors.messages.sync_signed_store_set!.write!.data_hex.slice(0, 32) }]])
  })

  it('a frame of the other mode is refused: each layout is read by its own decoder only', () => {
    expect(thrownCode(() => decodeFrame(fromHex(vectors.messages.sync_signed_store_set!.frame_hex)))).toBe('FRAME_CHECKSUM')
    expect(thrownCode(() => decodeFrame(fromHex(vectors.messages.sync_store_set!.frame_hex), { variant: 'signed' }))).toBe('FRAME_AUTH')
  })

  it('a bad signature length or a value too large is a bad frame (FRAME_SHAPE) for the sync claims', () => {
    const registry = meshRegistry({ name: 'sync', claims: syncClaims({ ...SYNC_DEFAULTS, maxValueBytes: 3 }), onMessage: () => {} })
    const set = decodeFrame(fromHex(vectors.messages.sync_store_set!.frame_hex))
    expect(thrownCode(() => decodeMeshMessage(set, registry))).toBe('FRAME_SHAPE') // 'blue' is 5 bytes of msgpack
    const signed = decodeFrame(fromHex(vectors.messages.sync_signed_store_set!.frame_hex), { variant: 'signed' })
    const short = { ...signed, payload: [...signed.payload.slice(0, -1), new Uint8Array(63)] }
    expect(thrownCode(() => decodeMeshMessage(short, meshRegistry({ name: 'sync', claims: syncClaims(SYNC_DEFAULTS), onMessage: () => {} })))).toBe('FRAME_SHAPE')
  })
})

describe('docs/protocol.md, "Sync table" → "Messages" → "Examples"', () => {
  const text = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8')
  const section = text.slice(text.indexOf('## Sync table'), text.indexOf('### Anti-entropy', text.indexOf('## Sync table')))
  const examples = section.slice(section.indexOf('#### Examples'))
  // One example per vector: from its `(vector `id`` mention to the next, each fenced block.
  const starts = [...examples.matchAll(/\(vector\s+`(\w+)`,\s+(\d+)\s+bytes\)/g)]
  const blocks = (from: number, to: number): string[][] =>
    [...examples.slice(from, to).matchAll(/```\n([\s\S]*?)```/g)].map((m) => m[1]!.trimEnd().split('\n'))

  it('has one example for every vector, in the fixture\'s order, with its length', () => {
    expect(starts.map((m) => m[1])).toEqual(IDS)
    for (const m of starts) expect(Number(m[2]), m[1]).toBe(vectors.messages[m[1]!]!.frame_len)
  })

  starts.forEach((m, i) => {
    const id = m[1]!
    const v = vectors.messages[id]!
    it(`${id}: the hex is the fixture's frame, and every annotated byte is there in order`, () => {
      const found = blocks(m.index, starts[i + 1]?.index ?? examples.length)
      const plain = found.filter((lines) => lines.every((l) => /^[0-9a-f]+$/.test(l)))
      expect(plain.map((lines) => lines.join(''))).toEqual([v.frame_hex])
      const annotated = found.filter((lines) => !plain.includes(lines))
      expect(annotated.length).toBeGreaterThan(0)
      for (const lines of annotated) {
        // Per line, the hex before the first run of 2+ spaces; '…' elides bytes.
        const pieces = lines.flatMap((l) => l.trim().split(/\s{2,}/)[0]!.replace(/ /g, '').split('…')).filter((p) => p !== '')
        const inOrder = (hex: string): boolean => {
          let at = 0
          for (const p of pieces) {
            const next = hex.indexOf(p, at)
            if (next < 0) return false
            at = next + p.length
          }
          return true
        }
        expect(pieces.every((p) => /^[0-9a-f]+$/.test(p)), lines.join('\n')).toBe(true)
        const statement = v.write?.statement_hex ?? v.group?.statement_hex
        expect(inOrder(v.frame_hex) || (statement !== undefined && inOrder(statement)), lines.join('\n')).toBe(true)
      }
    })
  })
})
