import SimplePeer from 'simple-peer/simplepeer.min.js'
import type { Instance } from 'simple-peer'
import { LocalSignalingHub } from '../../src/testing/local-signaler.js'
import type { Link } from '../../src/transport/types.js'
import { WebRtcTransport } from '../../src/transport/webrtc/webrtc-transport.js'

// In-page benchmark: two peers in one page, signals handed over by macrotask with a JSON round
// trip, for raw simple-peer and for our Link alike. Driven by bench/transport-browser.ts.

type Pair = { a: Instance; b: Instance }

function rawPair(): Promise<Pair> {
  const a = new SimplePeer({ initiator: true, config: { iceServers: [] } })
  const b = new SimplePeer({ config: { iceServers: [] } })
  a.on('signal', (d: unknown) => setTimeout(() => b.signal(JSON.parse(JSON.stringify(d))), 0))
  b.on('signal', (d: unknown) => setTimeout(() => a.signal(JSON.parse(JSON.stringify(d))), 0))
  return new Promise((resolve) => {
    let n = 0
    const done = (): void => void (++n === 2 && resolve({ a, b }))
    a.once('connect', done)
    b.once('connect', done)
  })
}

let hubs = 0
async function ourPair(): Promise<{ a: Link; b: Link; close(): Promise<void> }> {
  const hub = new LocalSignalingHub()
  const n = ++hubs
  const ta = new WebRtcTransport({ signaler: hub.signaler(`a${n}`) })
  const tb = new WebRtcTransport({ signaler: hub.signaler(`b${n}`) })
  const incoming = new Promise<Link>((resolve) => tb.on('link', resolve))
  const a = await ta.dial(`b${n}`)
  const b = await incoming
  return { a, b, close: async () => void (await Promise.all([ta.close(), tb.close()])) }
}

const channelOf = (p: Instance): RTCDataChannel => (p as unknown as { _channel: RTCDataChannel })._channel

/** Raw simple-peer the documented way: stream write() and 'drain'. */
async function rawStream(total: number, chunk: number): Promise<number> {
  const { a, b } = await rawPair()
  const data = new Uint8Array(chunk)
  let got = 0
  const done = new Promise<void>((resolve) => b.on('data', (d: Uint8Array) => void ((got += d.byteLength) >= total && resolve())))
  const t0 = performance.now()
  for (let sent = 0; sent < total; sent += chunk) if (!a.write(data)) await new Promise((r) => a.once('drain', r))
  await done
  const ms = performance.now() - t0
  a.destroy()
  b.destroy()
  return total / 1048576 / (ms / 1000)
}

/** Raw simple-peer at its best: send() with the data channel's own bufferedamountlow. */
async function rawNative(total: number, chunk: number): Promise<number> {
  const { a, b } = await rawPair()
  const ch = channelOf(a)
  ch.bufferedAmountLowThreshold = 256 * 1024
  const data = new Uint8Array(chunk)
  let got = 0
  const done = new Promise<void>((resolve) => b.on('data', (d: Uint8Array) => void ((got += d.byteLength) >= total && resolve())))
  const t0 = performance.now()
  for (let sent = 0; sent < total; sent += chunk) {
    if (ch.bufferedAmount > 1024 * 1024) await new Promise((r) => ch.addEventListener('bufferedamountlow', r, { once: true }))
    a.send(data)
  }
  await done
  const ms = performance.now() - t0
  a.destroy()
  b.destroy()
  return total / 1048576 / (ms / 1000)
}

async function ours(total: number, messageBytes: number): Promise<number> {
  const p = await ourPair()
  const msg = new Uint8Array(messageBytes)
  let got = 0
  const done = new Promise<void>((resolve) => p.b.on('message', (d) => void ((got += d.byteLength) >= total && resolve())))
  const t0 = performance.now()
  for (let sent = 0; sent < total; sent += messageBytes) await p.a.send(msg)
  await done
  const ms = performance.now() - t0
  await p.close()
  return total / 1048576 / (ms / 1000)
}

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!

async function run(connects: number, total: number): Promise<Record<string, number>> {
  const rawC: number[] = []
  const ourC: number[] = []
  for (let i = 0; i < connects; i++) {
    let t0 = performance.now()
    const r = await rawPair()
    rawC.push(performance.now() - t0)
    r.a.destroy()
    r.b.destroy()
    t0 = performance.now()
    const o = await ourPair()
    ourC.push(performance.now() - t0)
    await o.close()
  }
  const series: Record<string, number[]> = { rawStream: [], rawNative: [], ours16k: [], ours1m: [] }
  for (let round = 0; round < 3; round++) {
    series.rawStream!.push(await rawStream(total, 16 * 1024))
    series.rawNative!.push(await rawNative(total, 16 * 1024))
    series.ours16k!.push(await ours(total, 16 * 1024 - 1))
    series.ours1m!.push(await ours(total, 1024 * 1024))
  }
  return {
    rawConnectMs: median(rawC),
    ourConnectMs: median(ourC),
    ...Object.fromEntries(Object.entries(series).map(([k, v]) => [k, median(v)])),
    peerConnectionsUsed: 2 * connects * 2 + 3 * 4 * 2,
  }
}

;(window as unknown as { runBench: typeof run }).runBench = run
document.querySelector('[data-testid="state"]')!.textContent = 'ready'
