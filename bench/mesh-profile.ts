import type { CDPSession, Page } from '@playwright/test'
import { Prng } from '../src/testing/prng.js'
import { meshBenchSetup } from './mesh-setup.js'
import { startSignalingServer } from '../signaling/server.js'

// Where the main thread's time goes in bench:mesh, by the CDP sampling profiler: self and
// inclusive time by function (top 30) over 20 broadcasts of the 64-node in-page network (ours, or
// the raw flood with --raw), or over 64 MiB of 1 MiB whispers between two pages (--whisper).
// Run: npm run bench:mesh:profile [-- --raw | -- --whisper]
const NODES = 64
const BROADCASTS = 20
const SEED = 7

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }

const { vite, url, browser } = await meshBenchSetup()
try {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] })
  const open = async (): Promise<Page> => {
    const p = await context.newPage()
    p.on('pageerror', (err) => console.error(err.message))
    await p.goto(url)
    await p.getByTestId('state').filter({ hasText: 'ready' }).waitFor()
    return p
  }
  // Chromium allows 500 RTCPeerConnections per page: the raw network gets a page of its own.
  let page = await open()
  const call = (name: string, ...args: unknown[]): Promise<unknown> =>
    page.evaluate(({ name, args }) => (window as unknown as { bench: Record<string, (...a: unknown[]) => unknown> }).bench[name]!(...args), { name, args })
  if (process.argv.includes('--whisper')) {
    // 64 MiB of 1 MiB random whispers from page B to page A, both pages profiled.
    const signaling = await startSignalingServer({ port: 0 })
    try {
      const a = page
      const b = await open()
      const on = (pg: Page, name: string, ...args: unknown[]): Promise<unknown> =>
        pg.evaluate(({ name, args }) => (window as unknown as { bench: Record<string, (...a: unknown[]) => unknown> }).bench[name]!(...args), { name, args })
      const ids = (await on(a, 'join', signaling.url, 'prof')) as { mesh: string; raw: string }
      await on(b, 'openSenders', signaling.url, 'prof', ids.mesh, ids.raw)
      const round = async (): Promise<number> => {
        await on(a, 'expect', 64 * 1048576)
        const t0 = (await on(b, 'oursSend', 64 * 1048576, 1048576, true)) as number
        return 64 / (((await on(a, 'received')) as number) - t0) * 1000
      }
      await round()
      const sessions = await Promise.all([a, b].map(async (pg) => {
        const cdp = await context.newCDPSession(pg)
        await cdp.send('Profiler.enable')
        await cdp.send('Profiler.setSamplingInterval', { interval: 200 })
        await cdp.send('Profiler.start')
        return cdp
      }))
      console.log(`${(await round()).toFixed(1)} MiB/s`)
      for (const [i, cdp] of sessions.entries()) {
        const { profile } = (await cdp.send('Profiler.stop')) as unknown as { profile: Profile }
        console.log(`\n== page ${i === 0 ? 'A (receiver)' : 'B (sender)'}`)
        summarize(profile)
      }
      await on(b, 'closeSenders')
    } finally {
      await signaling.close()
    }
  } else {
  const built = (await call('oursBuild', NODES, SEED)) as { edges: unknown }
  const rng = new Prng(SEED)
  const origins = Array.from({ length: BROADCASTS + 1 }, () => rng.int(NODES))
  const raw = process.argv.includes('--raw')
  if (raw) {
    await call('oursClose')
    await page.close()
    page = await open()
    await call('rawBuild', NODES, built.edges)
    await call('rawBroadcasts', origins.slice(0, 1), 119)
  } else {
    await call('oursBroadcasts', origins.slice(0, 1))
  }
  const cdp: CDPSession = await context.newCDPSession(page)
  await cdp.send('Profiler.enable')
  await cdp.send('Profiler.setSamplingInterval', { interval: 100 })
  await cdp.send('Profiler.start')
  const result = (await (raw ? call('rawBroadcasts', origins.slice(1), 119) : call('oursBroadcasts', origins.slice(1)))) as { ms: number[] }
  const { profile } = (await cdp.send('Profiler.stop')) as unknown as { profile: Profile }
  const ms = [...result.ms].sort((a, b) => a - b)
  console.log(`median broadcast ${ms[ms.length >> 1]!.toFixed(1)} ms over ${BROADCASTS} broadcasts`)
  summarize(profile)
  await call(raw ? 'rawClose' : 'oursClose')
  }
} finally {
  await browser.close()
  await vite.close()
}

type Profile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

function summarize(profile: Profile): void {
  const self = new Map<string, number>()
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  profile.samples.forEach((id, i) => {
    const n = byId.get(id)!
    const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}`
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000)
  })
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  // Inclusive time per function (a function counted once per sample even when recursive).
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const inclusive = new Map<string, number>()
  profile.samples.forEach((id, i) => {
    const keys = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = byId.get(at)!
      if (n.callFrame.url === '') continue
      keys.add(`${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}`)
    }
    for (const k of keys) inclusive.set(k, (inclusive.get(k) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000)
  })
  console.log(`profiled ${total.toFixed(0)} ms`)
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${v.toFixed(1).padStart(8)} ms ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`)
  console.log('\ninclusive:')
  for (const [k, v] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${v.toFixed(1).padStart(8)} ms ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`)
}
