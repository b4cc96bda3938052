import SimplePeer from 'simple-peer/simplepeer.min.js'
import type { Instance } from 'simple-peer'
import { expect, it } from 'vitest'
import { LocalSignalingHub } from '../src/testing/local-signaler.js'
import { loopbackOnlyWrtc } from '../src/testing/node-webrtc.js'
import type { Link } from '../src/transport/types.js'
import { WebRtcTransport } from '../src/transport/webrtc/webrtc-transport.js'

// Link vs raw simple-peer, same process, same signal path (in-process, JSON round trip, one
// macrotask per blob), Node 20 + @roamhq/wrtc on loopback. Run: npm run bench:transport
const wrtc = loopbackOnlyWrtc()
const CONNECTS = 15
const TOTAL = 64 * 1024 * 1024

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const p90 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!

function rawPair(): Promise<[Instance, Instance]> {
  const a = new SimplePeer({ initiator: true, wrtc, config: { iceServers: [] } })
  const b = new SimplePeer({ wrtc, config: { iceServers: [] } })
  a.on('signal', (d: unknown) => setTimeout(() => b.signal(JSON.parse(JSON.stringify(d))), 0))
  b.on('signal', (d: unknown) => setTimeout(() => a.signal(JSON.parse(JSON.stringify(d))), 0))
  return new Promise((resolve) => {
    let n = 0
    const done = (): void => void (++n === 2 && resolve([a, b]))
    a.once('connect', done)
    b.once('connect', done)
  })
}

async function ourPair(): Promise<{ a: Link; b: Link; close(): Promise<void> }> {
  const hub = new LocalSignalingHub()
  const ta = new WebRtcTransport({ signaler: hub.signaler('a'), wrtc })
  const tb = new WebRtcTransport({ signaler: hub.signaler('b'), wrtc })
  const incoming = new Promise<Link>((resolve) => tb.on('link', resolve))
  const a = await ta.dial('b')
  const b = await incoming
  return { a, b, close: async () => void (await Promise.all([ta.close(), tb.close()])) }
}

async function rawThroughput(): Promise<number> {
  const [a, b] = await rawPair()
  const chunk = new Uint8Array(16 * 1024)
  let got = 0
  const done = new Promise<void>((resolve) => b.on('data', (d: Uint8Array) => void ((got += d.byteLength) >= TOTAL && resolve())))
  const t0 = performance.now()
  for (let sent = 0; sent < TOTAL; sent += chunk.byteLength) {
    if (!a.write(chunk)) await new Promise((r) => a.once('drain', r))
  }
  await done
  const ms = performance.now() - t0
  a.destroy()
  b.destroy()
  return TOTAL / 1024 / 1024 / (ms / 1000)
}

async function ourThroughput(messageBytes: number): Promise<number> {
  const p = await ourPair()
  const msg = new Uint8Array(messageBytes)
  let got = 0
  const done = new Promise<void>((resolve) => p.b.on('message', (d) => void ((got += d.byteLength) >= TOTAL && resolve())))
  const t0 = performance.now()
  for (let sent = 0; sent < TOTAL; sent += messageBytes) await p.a.send(msg)
  await done
  const ms = performance.now() - t0
  await p.close()
  return TOTAL / 1024 / 1024 / (ms / 1000)
}

it('transport benchmark (Node)', async () => {
  const rawConnect: number[] = []
  const ourConnect: number[] = []
  for (let i = 0; i < CONNECTS; i++) {
    let t0 = performance.now()
    const [a, b] = await rawPair()
    rawConnect.push(performance.now() - t0)
    a.destroy()
    b.destroy()
    t0 = performance.now()
    const p = await ourPair()
    ourConnect.push(performance.now() - t0)
    await p.close()
  }
  // Alternate the runs so that warm-up and leftover teardown do not favour either side.
  const raws: number[] = []
  const ours16s: number[] = []
  const ours1ms: number[] = []
  for (let round = 0; round < 3; round++) {
    raws.push(await rawThroughput())
    ours16s.push(await ourThroughput(16 * 1024 - 1))
    ours1ms.push(await ourThroughput(1024 * 1024))
  }
  console.log({ raws, ours16s, ours1ms })
  const raw = median(raws)
  const ours16 = median(ours16s)
  const ours1m = median(ours1ms)
  const rows = [
    '| measure (Node 20, @roamhq/wrtc, loopback) | raw simple-peer | p2p-today Link | ratio |',
    '|---|---|---|---|',
    `| connect, median of ${CONNECTS} (ms) | ${median(rawConnect).toFixed(1)} | ${median(ourConnect).toFixed(1)} | ${(median(ourConnect) / median(rawConnect)).toFixed(2)} |`,
    `| connect, p90 (ms) | ${p90(rawConnect).toFixed(1)} | ${p90(ourConnect).toFixed(1)} | |`,
    `| 64 MiB one way, median of 3: 16 KiB writes vs 16 KiB messages (MiB/s) | ${raw.toFixed(1)} | ${ours16.toFixed(1)} | ${(ours16 / raw).toFixed(2)} |`,
    `| 64 MiB one way, median of 3: 16 KiB writes vs 1 MiB messages (MiB/s) | ${raw.toFixed(1)} | ${ours1m.toFixed(1)} | ${(ours1m / raw).toFixed(2)} |`,
  ]
  console.log('\n' + rows.join('\n'))
  expect(raw).toBeGreaterThan(0)
})
