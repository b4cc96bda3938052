import { readFileSync } from 'node:fs'
import { expect, test } from '@playwright/test'

// The wire codec and identities in real Chromium, driven through the demo page: the 0.7
// vectors come out byte-exact, and node ids derive from WebCrypto Ed25519 keys.
const vectors = JSON.parse(readFileSync(new URL('../src/wire/fixtures/vectors-0.7.json', import.meta.url), 'utf8')) as {
  sender: string
  timestamp: number
  protocol_ids: Record<string, string>
  messages: Record<string, { frame_hex: string; id_hex: string; frame_len: number }>
}

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

test('bad input gets a named error on the page, not a crash', async ({ page }) => {
  await page.getByTestId('frame-sender').fill('not a base58 id!')
  await page.getByTestId('frame-encode').click()
  await expect(page.getByTestId('frame-decoded')).toHaveText(/^FRAME_SHAPE:/)
  await page.getByTestId('frame-sender').fill(vectors.sender)
  await page.getByTestId('frame-payload').fill(`[0, {"deep": ${'['.repeat(40)}1${']'.repeat(40)}}]`)
  await page.getByTestId('frame-encode').click()
  await expect(page.getByTestId('frame-decoded')).toHaveText(/^INVALID_PAYLOAD:/)
})
