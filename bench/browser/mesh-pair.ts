import SimplePeer from 'simple-peer/simplepeer.min.js'
import type { Instance, SignalData } from 'simple-peer'
import { Identity, MeshSocket, SignalingClient, protocolId } from '../../src/index.js'

// Two-page benches over the real signaling server (driven by bench/mesh-browser.ts): page A is
// the resident node (a MeshSocket, and a raw simple-peer answerer on its own SignalingClient),
// page B dials it. Times are measured in the page: performance.now() for what happens in one
// page, timeOrigin + now() (the same machine clock) where the end is seen by the other page.

const abs = (): number => performance.timeOrigin + performance.now()
const channelOf = (p: Instance): RTCDataChannel => (p as unknown as { _channel: RTCDataChannel })._channel
type Envelope = { s: string; d: SignalData }

/** What page A counts: bytes of whispers (ours) or of raw data, until `total`. */
const inbox = { got: 0, total: Infinity, done: Promise.resolve(0), resolve: (_t: number) => {} }
function count(bytes: number): void {
  inbox.got += bytes
  if (inbox.got >= inbox.total) inbox.resolve(abs())
}

let resident: MeshSocket | undefined
let answerer: SignalingClient | undefined

/** Page A: a MeshSocket alone in `subnet`, and a raw answerer in `subnet`'s raw twin. */
export async function join(signaling: string, subnet: string): Promise<{ mesh: string; raw: string }> {
  resident = new MeshSocket({ signaling, subnet })
  resident.on('message', (m) => m.payload[0] instanceof Uint8Array && count(m.payload[0].byteLength))
  await resident.ready()
  answerer = await SignalingClient.connect({ url: signaling, identity: await Identity.generate(), net: protocolId(subnet, 'raw') })
  const peers = new Map<string, Instance>()
  answerer.on('signal', (from, data) => {
    const { s, d } = data as Envelope
    let p = peers.get(s)
    if (p === undefined) {
      if (d.type !== 'offer') return
      p = new SimplePeer({ config: { iceServers: [] } })
      p.on('signal', (out: SignalData) => answerer?.sendSignal(from, { s, d: out }))
      p.on('data', (chunk: Uint8Array) => count(chunk.byteLength))
      p.on('close', () => peers.delete(s))
      p.on('error', () => peers.delete(s))
      peers.set(s, p)
    }
    p.signal(d)
  })
  return { mesh: resident.id, raw: answerer.localId }
}

/** Page A: starts counting towards `total` bytes; `received()` gives the time the last arrived. */
export function expect(total: number): void {
  inbox.got = 0
  inbox.total = total
  inbox.done = new Promise((resolve) => (inbox.resolve = resolve))
}
export const received = (): Promise<number> => inbox.done

/** Page B: constructor → first 'peer' (ms), then leaves. */
export async function oursConnect(signaling: string, subnet: string): Promise<number> {
  const t0 = performance.now()
  const mesh = new MeshSocket({ signaling, subnet })
  await new Promise<void>((resolve) => mesh.on('peer', () => resolve()))
  const ms = performance.now() - t0
  await mesh.close()
  return ms
}

let sessions = 0
/** Page B: a raw simple-peer connection to `to` through a fresh SignalingClient. */
async function rawDial(signaling: string, subnet: string, to: string): Promise<{ peer: Instance; client: SignalingClient; ms: number; fullMs: number }> {
  const t0 = performance.now()
  const client = await SignalingClient.connect({ url: signaling, identity: await Identity.generate(), net: protocolId(subnet, 'raw') })
  const t1 = performance.now()
  const s = `b${++sessions}`
  const peer = new SimplePeer({ initiator: true, config: { iceServers: [] } })
  peer.on('signal', (d: SignalData) => client.sendSignal(to, { s, d }))
  client.on('signal', (_from, data) => (data as Envelope).s === s && peer.signal((data as Envelope).d))
  await new Promise((resolve, reject) => {
    peer.once('connect', resolve)
    peer.once('error', reject)
  })
  const t2 = performance.now()
  return { peer, client, ms: t2 - t1, fullMs: t2 - t0 }
}

/** Page B: new SimplePeer → 'connect' (ms), and the same plus identity + SignalingClient.connect. */
export async function rawConnect(signaling: string, subnet: string, to: string): Promise<{ ms: number; fullMs: number }> {
  const { peer, client, ms, fullMs } = await rawDial(signaling, subnet, to)
  peer.destroy()
  await client.close()
  return { ms, fullMs }
}

function payload(bytes: number, random: boolean): Uint8Array {
  const data = new Uint8Array(bytes)
  if (random) for (let i = 0; i < bytes; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536))
  return data
}

let sender: { mesh: MeshSocket; to: string } | undefined
let rawSender: { peer: Instance; client: SignalingClient } | undefined

/** Page B: a MeshSocket linked to `to` and a raw connection to `raw`, kept for every transfer. */
export async function openSenders(signaling: string, subnet: string, to: string, raw: string): Promise<void> {
  const mesh = new MeshSocket({ signaling, subnet })
  await mesh.ready()
  if (!mesh.peers.includes(to)) throw new Error(`not linked to ${to}: ${mesh.peers.join(' ')}`)
  sender = { mesh, to }
  const { peer, client } = await rawDial(signaling, subnet, raw)
  rawSender = { peer, client }
}

/** Page B: whispers `total` bytes in `messageBytes` messages, awaiting each; returns the start time. */
export async function oursSend(total: number, messageBytes: number, random: boolean): Promise<number> {
  const { mesh, to } = sender!
  const data = payload(messageBytes, random)
  const t0 = abs()
  for (let sent = 0; sent < total; sent += messageBytes) await mesh.whisper(to, data)
  return t0
}

/** Page B: raw simple-peer at its best (send() + the data channel's bufferedamountlow); returns the start time. */
export async function rawSend(total: number, chunk: number): Promise<number> {
  const { peer } = rawSender!
  const ch = channelOf(peer)
  ch.bufferedAmountLowThreshold = 256 * 1024
  const data = payload(chunk, true)
  const t0 = abs()
  for (let sent = 0; sent < total; sent += chunk) {
    if (ch.bufferedAmount > 1024 * 1024) await new Promise((r) => ch.addEventListener('bufferedamountlow', r, { once: true }))
    peer.send(data)
  }
  return t0
}

export async function closeSenders(): Promise<void> {
  rawSender?.peer.destroy()
  await Promise.all([sender?.mesh.close(), rawSender?.client.close()])
}
