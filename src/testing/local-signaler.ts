import { Emitter } from '../util/emitter.js'
import type { Signaler, SignalerEvents } from '../transport/types.js'

/**
 * In-process signalers that hand signal blobs to each other through a shared hub, by
 * macrotask (as a WebSocket would), with a JSON round trip (as a server would). For WebRTC
 * tests that do not need the signaling server. Counts blobs for assertions.
 */
export class LocalSignalingHub {
  readonly #nodes = new Map<string, Emitter<SignalerEvents>>()
  sent = 0

  signaler(localId: string): Signaler & { close(): void } {
    const events = new Emitter<SignalerEvents>()
    this.#nodes.set(localId, events)
    return {
      localId,
      sendSignal: (to, data) => {
        this.sent++
        const copy: unknown = JSON.parse(JSON.stringify(data))
        setTimeout(() => this.#nodes.get(to)?.emit('signal', localId, copy), 0)
      },
      on: (event, fn) => events.on(event, fn),
      close: () => {
        this.#nodes.delete(localId)
      },
    }
  }
}
