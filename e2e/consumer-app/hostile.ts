import {
  FLAGS,
  ID_BYTES,
  Identity,
  LEN_BYTES,
  NONCE_BYTES,
  P2PError,
  SignalingClient,
  WebRtcTransport,
  decodeFrame,
  encodeBody,
  encodeFrame,
  frameBody,
  fromHex,
  handshakeInput,
  signedProtocolId,
  signingInput,
  toHex,
  type DecodedFrame,
  type FrameAuth,
  type FrameMessage,
  type Link,
} from 'p2p-today'

// The attacker's page (?app=hostile&signal=…&subnet=…), for e2e/hostile.spec.ts: a node with its
// own real identity, registered at the signaling server like any other, that dials honest nodes
// over WebRTC and speaks the signed mesh protocol by hand, honestly or not, using only the
// package's public API. The test drives it through `window.hostile`.

/** Mesh sub flags the package does not export (docs/protocol.md, Mesh): the proof of key, a relayed WebRTC signal. */
const SUB_AUTH = 0x13
const SUB_SIGNAL = 0x12

/** What a handshake shows; by default the truth: our id, our key, a valid proof of key for this link. */
export interface Claim {
  /** The id claimed. */
  id?: string
  /** The public key shown (hex). */
  key?: string
  /** A proof of key to send instead of signing one (hex), e.g. one sent on another link. */
  proof?: string
}

export interface HostileApi {
  /** Our own (real) node id. */
  readonly id: string
  /** Dials `target` through the signaling server and sends a handshake; resolves once the peer's handshake arrived, with the link's number and what the peer showed. */
  dial(target: string, claim?: Claim): Promise<{ n: number; peerId: string; peerKey: string }>
  /** Resolves with the code link `n` closed with ('' for a clean close). */
  closed(n: number): Promise<string>
  /** The proofs of key sent so far, hex, in order. */
  proofs(): string[]
  /** Resolves once a broadcast whose first value is `tag` arrived on some link: its sender and the key that signed it (hex). */
  captured(tag: string): Promise<{ sender: string; key: string }>
  /** Sends a broadcast of `tag` in the name of `as`, signed by us or not at all; `showKey` (hex) replaces our key in the block; `age` seconds old. */
  forgeBroadcast(n: number, o: { as: string; tag: string; sign: 'self' | 'none'; showKey?: string; age?: number }): Promise<void>
  /** Sends a WebRTC signal for `target` to be relayed through the mesh, in the name of `as`, signed by us. */
  forgeSignal(n: number, o: { as: string; target: string }): Promise<void>
  /** Sends the captured broadcast `tag` again, byte for byte, `times` times. */
  replay(n: number, tag: string, times: number): Promise<void>
  /** Sends the captured broadcast `tag` with its key and signature kept but its sender and/or text changed. */
  tamper(n: number, tag: string, o: { sender?: string; text?: string }): Promise<void>
  /** Sends three malformed frames: a wrong checksum, a LEN the bytes do not match, a valid frame that is no mesh message. */
  garbage(n: number): Promise<void>
  /** Sends a frame whose LEN announces 4 GiB. */
  oversize(n: number): Promise<void>
  /** Sends the captured broadcast `tag` in bursts until link `n` closes; resolves with the number of copies sent. */
  flood(n: number, tag: string): Promise<number>
  /** Tries to register `id` at the signaling server, signing with our key: showing our key, then showing `key` (hex). Resolves with each attempt's error code. */
  claimAtSignaling(id: string, key: string): Promise<string[]>
}

declare global {
  interface Window {
    hostile: HostileApi
  }
}

const $ = (id: string): HTMLElement => document.querySelector(`[data-testid="${id}"]`)!
const code = (err: unknown): string => (err instanceof P2PError ? err.code : String(err))
const now = (): number => Math.floor(Date.now() / 1000)
const FLOOD_BURST = 50
const FLOOD_PAUSE_MS = 25
const FLOOD_MAX_MS = 30_000

/** A frame in either layout: signed variant after the handshake, 0.7 for handshakes. */
function decode(bytes: Uint8Array): DecodedFrame | undefined {
  for (const variant of ['signed', '0.7'] as const) {
    try {
      return decodeFrame(bytes, { variant })
    } catch {
      // the other layout
    }
  }
  return undefined
}

/** A signed-variant frame: link-authenticated (K = 0x00), or with `auth` (K = 0x01). */
function frame(msg: FrameMessage, auth?: FrameAuth): Uint8Array {
  return frameBody(encodeBody(msg, auth === undefined ? { variant: 'signed' } : { variant: 'signed', auth }))
}

export async function runHostile(params: URLSearchParams): Promise<void> {
  document.body.innerHTML = `<h1>hostile peer</h1><p>id: <code data-testid="my-id"></code> status: <span data-testid="status">starting</span></p>`
  const url = params.get('signal') ?? 'http://127.0.0.1:9000'
  // A MeshSocket's protocol id: its subnet with the model's tag ('mesh'), signed mode.
  const pid = signedProtocolId((params.get('subnet') ?? 'e2e') + 'mesh', 'webrtc')
  const me = await Identity.generate()
  const signaling = await SignalingClient.connect({ url, identity: me, net: pid })
  const transport = new WebRtcTransport({ signaler: signaling, iceServers: signaling.iceServers })
  transport.on('link', (link) => void link.close()) // it only attacks: nobody else gets a link

  const links: Link[] = []
  const closes: Promise<string>[] = []
  const proofs: Uint8Array[] = []
  const broadcasts: { frame: DecodedFrame; bytes: Uint8Array }[] = []
  const watchers = new Set<() => void>()
  const changed = (): void => [...watchers].forEach((w) => w())
  /** Resolves with `get()` once it is defined, looking again whenever a frame arrives or a link closes. */
  const until = <T>(get: () => T | undefined): Promise<T> =>
    new Promise((resolve) => {
      const look = (): void => {
        const value = get()
        if (value === undefined) return
        watchers.delete(look)
        resolve(value)
      }
      watchers.add(look)
      look()
    })
  const capture = (tag: string) => until(() => broadcasts.find((b) => b.frame.payload[1] === tag))
  const sign = async (msg: FrameMessage): Promise<Uint8Array> => {
    const id = encodeBody(msg, { variant: 'signed' }).subarray(0, ID_BYTES)
    return frame(msg, { publicKey: me.publicKey, signature: await me.sign(signingInput(pid, id)) })
  }
  const send = (n: number, bytes: Uint8Array): Promise<void> => links[n]!.send(bytes)

  const api: HostileApi = {
    id: me.id,
    async dial(target, claim = {}) {
      const link = await transport.dial(target)
      const n = links.push(link) - 1
      const claimed = claim.id ?? me.id
      const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES))
      let peer: { id: string; key: Uint8Array } | undefined
      let closedWith: string | undefined
      closes[n] = new Promise((resolve) =>
        link.on('close', (reason) => {
          resolve((closedWith = reason?.code ?? ''))
          changed()
        }),
      )
      const prove = async (peerId: string, peerNonce: Uint8Array): Promise<void> => {
        const proof = claim.proof !== undefined ? fromHex(claim.proof) : await me.sign(handshakeInput(pid, claimed, peerId, nonce, peerNonce))
        proofs.push(proof)
        await link.send(frame({ type: FLAGS.whisper, sender: claimed, time: now(), payload: [SUB_AUTH, proof] })).catch(() => {})
      }
      link.on('message', (bytes) => {
        const f = decode(bytes)
        if (f === undefined) return
        const [sub, ...rest] = f.payload
        if (f.type === FLAGS.whisper && sub === FLAGS.handshake && rest[4] instanceof Uint8Array && rest[5] instanceof Uint8Array) {
          peer = { id: String(rest[0]), key: rest[4] }
          void prove(peer.id, rest[5])
        } else if (f.type === FLAGS.ping) {
          void link.send(frame({ type: FLAGS.pong, sender: claimed, time: now(), payload: [FLAGS.pong, rest[0]] })).catch(() => {})
        } else if (f.type === FLAGS.broadcast) {
          broadcasts.push({ frame: f, bytes: bytes.slice() })
        }
        changed()
      })
      // The handshake is in 0.7's layout on every link.
      const key = claim.key !== undefined ? fromHex(claim.key) : me.publicKey
      await link.send(encodeFrame({ type: FLAGS.whisper, sender: claimed, time: now(), payload: [FLAGS.handshake, claimed, pid, [], [], key, nonce] }))
      const shown = await until(() => peer ?? (closedWith !== undefined ? null : undefined))
      if (shown === null) throw new Error(`link closed (${closedWith ?? ''}) before the peer's handshake`)
      return { n, peerId: shown.id, peerKey: toHex(shown.key) }
    },
    closed: (n) => closes[n]!,
    proofs: () => proofs.map(toHex),
    async captured(tag) {
      const { frame: f } = await capture(tag)
      return { sender: f.sender, key: f.auth === undefined ? '' : toHex(f.auth.publicKey) }
    },
    async forgeBroadcast(n, o) {
      const msg = { type: FLAGS.broadcast, sender: o.as, time: now() - (o.age ?? 0), payload: [FLAGS.broadcast, o.tag] }
      const bytes = o.sign === 'none' ? frame(msg) : await sign(msg)
      if (o.showKey !== undefined) bytes.set(fromHex(o.showKey), LEN_BYTES + ID_BYTES + 1) // K, then the key
      await send(n, bytes)
    },
    async forgeSignal(n, o) {
      const blob = { s: 'forged', d: { type: 'offer', sdp: '' } }
      await send(n, await sign({ type: FLAGS.forward, sender: o.as, time: now(), payload: [SUB_SIGNAL, o.target, blob] }))
    },
    async replay(n, tag, times) {
      const { bytes } = await capture(tag)
      for (let i = 0; i < times; i++) await send(n, bytes)
    },
    async tamper(n, tag, o) {
      const { frame: f } = await capture(tag)
      const payload = o.text === undefined ? f.payload : [FLAGS.broadcast, o.text]
      await send(n, frame({ type: f.type, sender: o.sender ?? f.sender, time: f.time, payload }, f.auth))
    },
    async garbage(n) {
      await send(n, frameBody(new Uint8Array(ID_BYTES + 1 + 8))) // id 0…0 is not SHA-256 of the body
      await send(n, Uint8Array.of(0, 0, 0, 9, 1, 2, 3)) // announces 9 bytes, carries 3
      await send(n, frame({ type: 0x30, sender: me.id, time: now(), payload: [0x30, 'not a mesh message'] }))
    },
    oversize: (n) => send(n, Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0)),
    async flood(n, tag) {
      const { bytes } = await capture(tag)
      const link = links[n]!
      const stop = Date.now() + FLOOD_MAX_MS
      let sent = 0
      // Traffic, not synchronisation: bursts with a short pause, ~2 000 frames/s, until the peer hangs up.
      while (link.state !== 'closed' && Date.now() < stop) {
        for (let i = 0; i < FLOOD_BURST; i++, sent++) await link.send(bytes).catch(() => {})
        await new Promise((resolve) => setTimeout(resolve, FLOOD_PAUSE_MS))
      }
      return sent
    },
    async claimAtSignaling(id, key) {
      const attempt = async (publicKey: Uint8Array): Promise<string> => {
        // Not an Identity: an object that says it is `id`, signing with our key.
        const impostor = { id, publicKey, sign: (data: Uint8Array) => me.sign(data) } as unknown as Identity
        try {
          await (await SignalingClient.connect({ url, identity: impostor, net: pid })).close()
          return 'REGISTERED'
        } catch (err: unknown) {
          return code(err)
        }
      }
      return [await attempt(me.publicKey), await attempt(fromHex(key))]
    },
  }
  window.hostile = api
  $('my-id').textContent = me.id
  $('status').textContent = 'ready'
}
