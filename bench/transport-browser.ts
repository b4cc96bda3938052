import { chromium } from '@playwright/test'
import { createServer } from 'vite'

// Link vs raw simple-peer in headless Chromium (both peers in one page, loopback only).
// Run: npm run bench:transport:browser   (it re-runs itself in the loopback-only namespace)
const server = await createServer({ root: new URL('./browser', import.meta.url).pathname, configFile: false, logLevel: 'error', server: { host: '127.0.0.1', port: 0 } })
await server.listen()
const url = server.resolvedUrls?.local[0]
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--allow-loopback-in-peer-connection'],
})
try {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] })
  const page = await context.newPage()
  await page.goto(url!)
  await page.getByTestId('state').filter({ hasText: 'ready' }).waitFor()
  const r = await page.evaluate(() => (window as unknown as { runBench(c: number, t: number): Promise<Record<string, number>> }).runBench(15, 64 * 1024 * 1024))
  const f = (x: number | undefined): string => (x ?? NaN).toFixed(1)
  console.log(
    [
      `| measure (Chromium ${browser.version()}, one page, loopback) | raw simple-peer | p2p-today Link | ratio |`,
      '|---|---|---|---|',
      `| connect, median of 15 (ms) | ${f(r.rawConnectMs)} | ${f(r.ourConnectMs)} | ${((r.ourConnectMs ?? 0) / (r.rawConnectMs ?? 1)).toFixed(2)} |`,
      `| 64 MiB, raw write()/drain 16 KiB vs Link 16 KiB messages (MiB/s) | ${f(r.rawStream)} | ${f(r.ours16k)} | ${((r.ours16k ?? 0) / (r.rawStream ?? 1)).toFixed(2)} |`,
      `| 64 MiB, raw send()+bufferedamountlow 16 KiB vs Link 16 KiB messages (MiB/s) | ${f(r.rawNative)} | ${f(r.ours16k)} | ${((r.ours16k ?? 0) / (r.rawNative ?? 1)).toFixed(2)} |`,
      `| 64 MiB, raw send()+bufferedamountlow 16 KiB vs Link 1 MiB messages (MiB/s) | ${f(r.rawNative)} | ${f(r.ours1m)} | ${((r.ours1m ?? 0) / (r.rawNative ?? 1)).toFixed(2)} |`,
    ].join('\n'),
  )
} finally {
  await browser.close()
  await server.close()
}
