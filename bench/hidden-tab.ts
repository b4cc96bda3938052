/**
 * What Chromium does to timers in a hidden tab, the facts the sync table's behaviour there rests
 * on (docs/BENCHMARKS.md, "Hidden tabs"). Runs a real (headful, under Xvfb) Chromium with two tabs
 * in one window, so the second is hidden for real, and measures in it through the DevTools
 * protocol (Playwright forces every page visible, so it is not used here):
 *  - the gaps of a chained setTimeout(1 000) (a keepalive-like timer) over `--seconds`, with
 *    Chromium's intensive throttling brought forward to 10 s hidden (a feature parameter; by
 *    default it starts after 5 min), without and then with an open RTCPeerConnection;
 *  - 3 chained setTimeout(0) against 50 MessageChannel turns (how a long job yields).
 * Usage: xvfb-run -a npx tsx bench/hidden-tab.ts [--seconds 90]
 */
import { spawn } from 'node:child_process'
import WebSocket from 'ws'

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1] || 90)
const port = 9000 + Math.floor(Math.random() * 500)
const page = (title: string) => `data:text/html,<title>${title}</title>`
const chromium = spawn(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', [
  '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--enable-features=IntensiveWakeUpThrottling:grace_period_seconds/10',
  `--remote-debugging-port=${port}`, `--user-data-dir=/tmp/p2p-hidden-tab-${process.pid}`,
  page('shown'), page('hidden'),
], { stdio: 'ignore' })

async function tab(title: string): Promise<(expression: string) => Promise<unknown>> {
  for (let i = 0; ; i++) {
    try {
      const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { title: string; webSocketDebuggerUrl: string }[]
      const t = list.find((x) => x.title === title)
      if (t !== undefined) {
        const ws = new WebSocket(t.webSocketDebuggerUrl)
        await new Promise((resolve) => ws.once('open', resolve))
        let id = 0
        return (expression) =>
          new Promise((resolve) => {
            const my = ++id
            const on = (data: WebSocket.RawData) => {
              const m = JSON.parse(String(data)) as { id: number; result: { result: { value: unknown } } }
              if (m.id !== my) return
              ws.off('message', on)
              resolve(m.result.result.value)
            }
            ws.on('message', on)
            ws.send(JSON.stringify({ id: my, method: 'Runtime.evaluate', params: { expression, awaitPromise: true, returnByValue: true } }))
          })
      }
    } catch {
      // not up yet
    }
    if (i > 50) throw new Error('Chromium did not come up')
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

const chain = (ms: number, forMs: number) => `new Promise((resolve) => {
  const gaps = []; let last = performance.now(); const end = last + ${forMs}
  const tick = () => { const now = performance.now(); gaps.push(Math.round(now - last)); last = now; if (now < end) setTimeout(tick, ${ms}); else resolve(gaps) }
  setTimeout(tick, ${ms})
})`
const webrtc = `(async () => {
  const a = new RTCPeerConnection(), b = new RTCPeerConnection()
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate); b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate)
  const ch = a.createDataChannel('x'); await a.setLocalDescription(); await b.setRemoteDescription(a.localDescription)
  await b.setLocalDescription(); await a.setRemoteDescription(b.localDescription)
  globalThis.keep = [a, b, ch]
  return a.connectionState
})()`
const yields = `(async () => {
  const t0 = performance.now(); for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 0))
  const t1 = performance.now(); for (let i = 0; i < 50; i++) await new Promise((r) => { const c = new MessageChannel(); c.port1.onmessage = () => r(); c.port2.postMessage(0) })
  const t2 = performance.now(); return [Math.round(t1 - t0), Math.round(t2 - t1)]
})()`

const stats = (gaps: number[]) => {
  const sorted = [...gaps].sort((x, y) => x - y)
  return `${gaps.length} wake-ups, median gap ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted[sorted.length - 1]} ms; first gaps ${gaps.slice(0, 6).join(', ')} … last ${gaps.slice(-4).join(', ')}`
}

try {
  const hidden = await tab('hidden')
  const shown = await tab('shown')
  console.log(`visibility: shown tab ${String(await shown('document.visibilityState'))}, hidden tab ${String(await hidden('document.visibilityState'))}`)
  const [timeouts, channel] = (await hidden(yields)) as number[]
  console.log(`yielding in the hidden tab: 3 chained setTimeout(0) took ${timeouts} ms; 50 MessageChannel turns ${channel} ms`)
  console.log(`setTimeout(1000) chain, hidden, no WebRTC: ${stats((await hidden(chain(1000, seconds * 1000))) as number[])}`)
  console.log(`RTCPeerConnection pair in the hidden tab: ${String(await hidden(webrtc))}`)
  console.log(`setTimeout(1000) chain, hidden, WebRTC open: ${stats((await hidden(chain(1000, seconds * 1000))) as number[])}`)
} finally {
  chromium.kill()
}
