import { connect, createServer, type Socket } from 'node:net'

/**
 * A TCP proxy in front of the signaling server that can make the server miss a page going away,
 * as a network path that died would: after `freeze()`, nothing the WebSocket connections open at
 * that moment send reaches the server any more (their close included), while the server's side
 * stays connected. Test-only (e2e/reload.spec.ts).
 */
export interface FreezingProxy {
  /** The signaling URL to give pages. */
  readonly url: string
  freeze(): void
  /** WebSocket connections (signaling registrations) made through the proxy so far. */
  readonly upgrades: number
  /** How the server closed each frozen WebSocket connection so far (its close frame). */
  serverCloses(): { code: number; reason: string }[]
  close(): Promise<void>
}

interface Connection {
  client: Socket
  upstream: Socket
  webSocket: boolean
  frozen: boolean
  /** What the server sent since the upgrade request: the HTTP upgrade response, then WebSocket frames. */
  fromServer: Buffer[]
}

export async function freezingProxy(serverPort: number): Promise<FreezingProxy> {
  const connections: Connection[] = []
  const proxy = createServer((client) => {
    const conn: Connection = { client, upstream: connect(serverPort, '127.0.0.1'), webSocket: false, frozen: false, fromServer: [] }
    connections.push(conn)
    client.on('data', (chunk) => {
      // A kept-alive connection may carry the challenge request before the upgrade.
      if (!conn.webSocket && chunk.toString('latin1', 0, 12) === 'GET /peerjs?') {
        conn.webSocket = true
        conn.fromServer = []
      }
      if (!conn.frozen) conn.upstream.write(chunk)
    })
    conn.upstream.on('data', (chunk) => {
      conn.fromServer.push(chunk)
      if (!client.destroyed) client.write(chunk)
    })
    client.on('close', () => {
      if (!conn.frozen) conn.upstream.end()
    })
    conn.upstream.on('close', () => client.destroy())
    client.on('error', () => {})
    conn.upstream.on('error', () => {})
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const { port } = proxy.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    freeze() {
      for (const conn of connections) if (conn.webSocket && !conn.client.destroyed) conn.frozen = true
    },
    get upgrades() {
      return connections.filter((c) => c.webSocket).length
    },
    serverCloses() {
      return connections.filter((c) => c.frozen).flatMap((c) => closeFrames(Buffer.concat(c.fromServer)))
    },
    async close() {
      for (const conn of connections) {
        conn.client.destroy()
        conn.upstream.destroy()
      }
      await new Promise<void>((resolve) => proxy.close(() => resolve()))
    },
  }
}

/** The close frames (opcode 8) in a server's side of a WebSocket connection: unmasked frames after the HTTP response. */
function closeFrames(bytes: Buffer): { code: number; reason: string }[] {
  const out: { code: number; reason: string }[] = []
  let at = bytes.indexOf('\r\n\r\n')
  if (at < 0) return out
  at += 4
  while (at + 2 <= bytes.length) {
    const opcode = bytes[at]! & 0x0f
    let length = bytes[at + 1]! & 0x7f
    let start = at + 2
    if (length === 126) {
      if (start + 2 > bytes.length) break
      length = bytes.readUInt16BE(start)
      start += 2
    } else if (length === 127) {
      if (start + 8 > bytes.length) break
      length = Number(bytes.readBigUInt64BE(start))
      start += 8
    }
    if (start + length > bytes.length) break
    if (opcode === 8 && length >= 2) out.push({ code: bytes.readUInt16BE(start), reason: bytes.toString('utf8', start + 2, start + length) })
    at = start + length
  }
  return out
}
