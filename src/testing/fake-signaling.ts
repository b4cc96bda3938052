import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { WebSocketServer } from 'ws'

/** Listens on a free loopback port; `close` ends every socket and the server (test-only fake signaling servers). */
export async function serveFake(http: Server, wss: WebSocketServer): Promise<{ url: string; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const close = async (): Promise<void> => {
    for (const s of wss.clients) s.terminate()
    wss.close()
    http.closeAllConnections()
    await new Promise((resolve) => http.close(resolve))
  }
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, close }
}
