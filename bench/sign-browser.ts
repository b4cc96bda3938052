import type { Page } from '@playwright/test'
import * as cases from './browser/sign-cases.js'
import type { SignBench } from './browser/sign-page.js'
import { machineLine, meshBenchSetup } from './mesh-setup.js'

// Signed broadcasts per second one thread can sign and verify, in headless Chromium (page
// bench/browser/sign.html) and in Node, WebCrypto vs @noble/ed25519: the cases of
// bench/browser/sign-cases.ts, ROUNDS rounds of MS each per case, Node and Chromium in turn.
// Run: npm run bench:sign   (no WebRTC: no namespace needed). Results: docs/BENCHMARKS.md.
const ROUNDS = 5
const MS = 300

async function call<K extends keyof SignBench>(page: Page, name: K, ...args: Parameters<SignBench[K]>): Promise<Awaited<ReturnType<SignBench[K]>>> {
  const run = ({ name, args }: { name: string; args: unknown[] }): unknown =>
    (window as unknown as { bench: Record<string, (...a: unknown[]) => unknown> }).bench[name]!(...args)
  return (await page.evaluate(run, { name, args: args as unknown[] })) as Awaited<ReturnType<SignBench[K]>>
}

const median = (xs: number[] = []): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN
const add = (into: Record<string, number[]>, round: Record<string, number>): void => {
  for (const [k, v] of Object.entries(round)) (into[k] ??= []).push(v)
}

const { vite, url, browser } = await meshBenchSetup('sign.html')
try {
  const page = await browser.newPage()
  page.on('pageerror', (err) => console.error(`[page] ${err.message}`))
  await page.goto(url)
  await page.getByTestId('state').filter({ hasText: 'ready' }).waitFor()
  const bytes = await cases.prepare()
  await call(page, 'prepare')
  const node: Record<string, number[]> = {}
  const chromium: Record<string, number[]> = {}
  for (let r = 0; r < ROUNDS; r++) {
    add(node, await cases.round(MS))
    add(chromium, await call(page, 'round', MS))
  }

  const n = (x: number): string => Math.round(x).toLocaleString('en-US')
  const cell = (results: Record<string, number[]>, key: string): string => n(median(results[key]))
  const row = (label: string, key: (backend: string) => string): string =>
    `| ${label} | ${[chromium, node].flatMap((r) => ['webcrypto', 'noble'].map((b) => cell(r, key(b)))).join(' | ')} |`
  const k = (op: string, rest: string) => (b: string) => `${op}/${b}/${rest}`
  const f = (b: number): string => `${b} B (+${(b - bytes.unsigned)} B, +${((100 * (b - bytes.unsigned)) / bytes.unsigned).toFixed(1)}%)`
  console.log(`${machineLine(browser.version())}\n`)
  console.log(
    [
      `| per second, median of ${ROUNDS} × ${MS} ms | Chromium WebCrypto | Chromium noble | Node WebCrypto | Node noble |`,
      '|---|---|---|---|---|',
      row('encode a 0.7 frame, no signature (baseline)', () => 'encode 0.7 (no signature)'),
      row('**sign**: encode + sign the id, one at a time', k('sign', 'sequential')),
      row(`**sign**: the same, ${cases.BATCH} in flight`, k('sign', 'batch')),
      row('decode a signed frame, no checks (baseline)', () => 'decode signed (no checks)'),
      row('**verify**: decode + idMatches + verify, one sender, one at a time', k('verify', 'one/sequential')),
      row(`**verify**: the same, ${cases.BATCH} in flight`, k('verify', 'one/batch')),
      row(`verify, 1,000 senders new to the verifier (cold cache), ${cases.BATCH} in flight`, k('verify', 'many-cold/batch')),
      row(`verify, 1,000 senders in the verifier's cache, ${cases.BATCH} in flight`, k('verify', 'many-warm/batch')),
      row(`verify without SignatureVerifier (node id and key import per message), 1,000 senders, ${cases.BATCH} in flight`, k('verify', 'uncached/batch')),
    ].join('\n'),
  )
  console.log(`\nFrames (100-byte text broadcast): 0.7 ${bytes.unsigned} B · link-authenticated ${f(bytes.link)} · signed ${f(bytes.signed)}`)
} finally {
  await browser.close()
  await vite.close()
}
