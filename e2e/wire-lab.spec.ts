import { readFileSync } from 'node:fs'
import { expect, test } from '@playwright/test'
import type { Int64Vectors } from '../src/testing/int64-vectors.js'
import type { SignedVectors } from '../src/testing/signed-vectors.js'

// The wire codec and identities in real Chromium, driven through the demo page: the 0.7 vectors,
// the 64-bit integer vectors and the signed variant's vectors come out byte-exact (signed and
// verified by WebCrypto in the page), and node ids derive from WebCrypto Ed25519 keys.
const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../src/wire/fixtures/${name}`, import.meta.url), 'utf8'))
const vectors = fixture('vectors-0.7.json') as {
  sender: string
  timestamp: number
  protocol_ids: Record<string, string>
  messages: Record<string, { frame_hex: string; id_hex: string; frame_len: number }>
}
const signed = fixture('vectors-signed-1.json') as SignedVectors
const int64 = fixture('vectors-int64.json') as Int64Vectors

test.beforeEach(async ({ page }) => {
  await page.goto('/')
  await expect(page.locator('#app')).toHaveAttribute('data-ready', 'true')
})

test('a node identity is generated with WebCrypto Ed25519', async ({ page }) => {
  await expect(page.getByTestId('crypto-backend')).toHaveText('webcrypto')
  const first = await page.getByTestId('node-id').textContent()
  expect(first).toMatch(/^[1-9A-HJ-NP-Za-km-z]{60,66}$/)
  await page.getByTestId('new-identity').click()
  await expect(page.getByTestId('node-id')).not.toHaveText(first!)
})

test('protocol ids match the 0.7 vectors', async ({ page }) => {
  await page.getByTestId('subnet').fill('mesh')
  await page.getByTestId('transport').fill('Plaintext')
  await expect(page.getByTestId('protocol-id')).toHaveText(vectors.protocol_ids["('mesh', 'Plaintext')"]!)
})

for (const [name, compression, bin] of [
  ['msg_broadcast_hello', 'none', true],
  ['msg_broadcast_hello_strpayload', 'none', false],
  ['msg_broadcast_hello_zlib', 'zlib', true],
] as const) {
  test(`frame ${name} is byte-exact in Chromium`, async ({ page }) => {
    const v = vectors.messages[name]!
    await page.getByTestId('frame-sender').fill(vectors.sender)
    await page.getByTestId('frame-time').fill(String(vectors.timestamp))
    await page.getByTestId('frame-payload').fill('[0, "hello"]')
    await page.getByTestId('frame-bin').setChecked(bin)
    await page.getByTestId('frame-compression').selectOption(compression)
    await page.getByTestId('frame-encode').click()
    await expect(page.getByTestId('frame-hex')).toHaveText(v.frame_hex)
    await expect(page.getByTestId('frame-length')).toHaveText(`${v.frame_len} bytes`)
    await expect(page.getByTestId('frame-id')).toHaveText(v.id_hex)
    await expect(page.getByTestId('frame-decoded')).toContainText(vectors.sender)
  })
}

for (const name of ['msg_broadcast_int64', 'msg_broadcast_int_edges'] as const) {
  test(`frame ${name} is byte-exact in Chromium: safe integers beyond 32 bits as uint64/int64`, async ({ page }) => {
    const v = int64.messages[name]
    const payload = JSON.stringify(v.payload)
    await page.getByTestId('frame-sender').fill(int64.sender)
    await page.getByTestId('frame-time').fill(String(int64.timestamp))
    await page.getByTestId('frame-payload').fill(payload)
    await page.getByTestId('frame-encode').click()
    await expect(page.getByTestId('frame-hex')).toHaveText(v.frame_hex)
    await expect(page.getByTestId('frame-length')).toHaveText(`${v.frame_len} bytes`)
    await expect(page.getByTestId('frame-id')).toHaveText(v.id_hex)
    // Decoded back as numbers (a bigint would show as 123n), the same JSON as went in.
    await expect(page.getByTestId('frame-decoded')).toContainText(`"payload":${payload}`)
  })
}

test('signed-mode protocol ids match the signed vectors', async ({ page }) => {
  await page.getByTestId('subnet').fill(signed.subnet)
  await page.getByTestId('transport').fill(signed.transport)
  await expect(page.getByTestId('signed-protocol-id')).toHaveText(signed.protocol_id)
  await expect(page.getByTestId('protocol-id')).toHaveText(signed.protocol_id_0_7)
})

for (const [name, layout, compression, bin, type, payload] of [
  ['signed_broadcast_hello', 'ed25519', 'none', true, '0', '[0, "hello"]'],
  ['link_whisper_hi', 'link', 'none', false, '2', '[2, "hi"]'],
  ['signed_broadcast_hello_zlib', 'ed25519', 'zlib', true, '0', '[0, "hello"]'],
] as const) {
  test(`signed-variant frame ${name} is byte-exact in Chromium${layout === 'ed25519' ? ', signed and verified by WebCrypto' : ''}`, async ({ page }) => {
    const v = signed.messages[name]
    await page.getByTestId('subnet').fill(signed.subnet)
    await page.getByTestId('transport').fill(signed.transport)
    await page.getByTestId('frame-type').fill(type)
    await page.getByTestId('frame-sender').fill(signed.node_id)
    await page.getByTestId('frame-time').fill(String(signed.timestamp))
    await page.getByTestId('frame-payload').fill(payload)
    await page.getByTestId('frame-bin').setChecked(bin)
    await page.getByTestId('frame-compression').selectOption(compression)
    await page.getByTestId('frame-variant').selectOption(layout)
    await page.getByTestId('frame-seed').fill(signed.seed_hex)
    await page.getByTestId('frame-encode').click()
    await expect(page.getByTestId('frame-hex')).toHaveText(v.frame_hex)
    await expect(page.getByTestId('frame-length')).toHaveText(`${v.frame_len} bytes`)
    await expect(page.getByTestId('frame-id')).toHaveText(v.id_hex)
    await expect(page.getByTestId('frame-decoded')).toContainText(signed.node_id)
    if (layout === 'ed25519') {
      await expect(page.getByTestId('frame-signer')).toHaveText(signed.node_id)
      await expect(page.getByTestId('frame-signature')).toHaveText(v.signature_hex!)
      await expect(page.getByTestId('frame-auth')).toHaveText("valid signature (webcrypto); key is the sender's")
    } else {
      await expect(page.getByTestId('frame-auth')).toHaveText(/^K = 0x00/)
    }
  })
}

test("a signed frame whose key is not the sender's is caught by the receiver's checks", async ({ page }) => {
  await page.getByTestId('frame-sender').fill(vectors.sender) // the 0.7 vectors' sender: not this key's id
  await page.getByTestId('frame-variant').selectOption('ed25519')
  await page.getByTestId('frame-seed').fill(signed.seed_hex)
  await page.getByTestId('frame-encode').click()
  await expect(page.getByTestId('frame-signer')).toHaveText(signed.node_id)
  await expect(page.getByTestId('frame-auth')).toHaveText("valid signature (webcrypto); key is NOT the sender's")
})

test('the signed handshake input and its WebCrypto signature match the signed vectors', async ({ page }) => {
  await page.getByTestId('subnet').fill(signed.subnet)
  await page.getByTestId('transport').fill(signed.transport)
  await page.getByTestId('frame-seed').fill(signed.seed_hex)
  await page.getByTestId('hs-peer').fill(signed.handshake.peer_id)
  await page.getByTestId('hs-signer-nonce').fill(signed.handshake.signer_nonce_hex)
  await page.getByTestId('hs-peer-nonce').fill(signed.handshake.peer_nonce_hex)
  await page.getByTestId('hs-build').click()
  await expect(page.getByTestId('hs-input')).toHaveText(signed.handshake.input_hex)
  await expect(page.getByTestId('hs-signature')).toHaveText(signed.handshake.signature_hex)
})

test('bad input gets a named error on the page, not a crash', async ({ page }) => {
  await page.getByTestId('frame-sender').fill('not a base58 id!')
  await page.getByTestId('frame-encode').click()
  await expect(page.getByTestId('frame-decoded')).toHaveText(/^FRAME_SHAPE:/)
  await page.getByTestId('frame-sender').fill(vectors.sender)
  await page.getByTestId('frame-payload').fill(`[0, {"deep": ${'['.repeat(40)}1${']'.repeat(40)}}]`)
  await page.getByTestId('frame-encode').click()
  await expect(page.getByTestId('frame-decoded')).toHaveText(/^INVALID_PAYLOAD:/)
})
