import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from '@playwright/test'
import { createServer, type ViteDevServer } from 'vite'
import type { SyncVectorCheck, SyncVectors } from '../src/testing/sync-vector-check.js'
import type { SyncVectorsPage } from './sync-vectors/page.js'

// The sync table's byte vectors (docs/protocol.md, "Sync table" → "Messages") in real Chromium,
// as src/sync/vectors.test.ts checks them in Node: every frame decoded by the mesh's decoder and
// the sync claims into the recorded items and message, re-encoded byte for byte, the flooded
// frame signed again and verified by WebCrypto, and the signed write's statement signed by
// WebCrypto to the recorded signature, which verifies (and fails with one byte flipped); a group of
// writes (flooded batch, or named by a state transfer) the same way over its tree's root. The page
// (e2e/sync-vectors/) runs the library's source, served by vite, as the storage contract's does.
const vectors = JSON.parse(readFileSync(new URL('../src/wire/fixtures/vectors-sync.json', import.meta.url), 'utf8')) as SyncVectors
let vite: ViteDevServer
let url: string

test.beforeAll(async () => {
  vite = await createServer({
    root: new URL('./sync-vectors', import.meta.url).pathname,
    configFile: false,
    logLevel: 'error',
    cacheDir: join(tmpdir(), 'p2p-today-e2e-sync-vectors-vite'),
    // Dependencies bundled up front: one discovered late would make vite reload the page mid-test.
    optimizeDeps: { noDiscovery: true, include: ['@msgpack/msgpack', '@noble/ed25519', '@noble/hashes/sha2.js', '@noble/hashes/legacy.js', '@noble/hashes/utils.js', 'pako'] },
    server: { host: '127.0.0.1', port: 0, hmr: false, watch: null },
  })
  await vite.listen()
  url = `${vite.resolvedUrls!.local[0]!}index.html`
})

test.afterAll(async () => {
  await vite?.close()
})

test('every sync message vector decodes, re-encodes byte for byte and verifies with WebCrypto in Chromium', async ({ page }) => {
  page.on('pageerror', (err) => console.error(`[page] ${err.message}`))
  await page.goto(url)
  await expect(page.getByTestId('state')).toHaveText('ready')
  expect(await page.evaluate(() => (window as unknown as { syncVectors: SyncVectorsPage }).syncVectors.backends())).toEqual({ identity: 'webcrypto', verifier: 'webcrypto' })
  const ids = Object.keys(vectors.messages)
  expect(ids).toHaveLength(12)
  for (const id of ids) {
    const v = vectors.messages[id]!
    // Through `unknown` both ways: Playwright's serialisable types do not unfold the recursive Json type.
    const check = ([all, name]: [unknown, string]): Promise<unknown> => (window as unknown as { syncVectors: SyncVectorsPage }).syncVectors.check(all as SyncVectors, name)
    const got = (await page.evaluate(check, [vectors as unknown, id] as [unknown, string])) as SyncVectorCheck
    expect(got.frame_hex, id).toBe(v.frame_hex)
    expect(got.id_hex, id).toBe(v.id_hex)
    expect([got.type, got.sender, got.time, got.sub], id).toEqual([v.type, vectors.node_id, vectors.timestamp, v.sub])
    expect(got.items, id).toEqual(v.items)
    expect(got.sync, id).toEqual(v.sync)
    if (v.signature_hex !== undefined) {
      expect(got.signature_hex, id).toBe(v.signature_hex)
      expect(got.frame_signature_ok, id).toBe(true)
    }
    expect(got.write === undefined, id).toBe(v.write === undefined)
    if (v.write !== undefined && got.write !== undefined) {
      expect([got.write.data_hex, got.write.statement_hex, got.write.signature_hex], id).toEqual([v.write.data_hex, v.write.statement_hex, v.write.signature_hex])
      expect([got.write.ok, got.write.flipped_ok, got.write.other_protocol_id_ok, got.write.other_name_ok], id).toEqual([true, false, false, false])
    }
    expect(got.group === undefined, id).toBe(v.group === undefined)
    if (v.group !== undefined && got.group !== undefined) {
      expect([got.group.root_hex, got.group.data_hex, got.group.statement_hex, got.group.signature_hex], id).toEqual([v.group.root_hex, v.group.data_hex, v.group.statement_hex, v.group.signature_hex])
      expect([got.group.ok, got.group.flipped_ok, got.group.other_protocol_id_ok, got.group.other_name_ok], id).toEqual([true, false, false, false])
    }
  }
  expect(ids.filter((id) => vectors.messages[id]!.group !== undefined)).toHaveLength(2)
})
