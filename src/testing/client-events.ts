import type { SignalingClient, SignalingClientEvents } from '../transport/signaling/signaling-client.js'

/** Resolves with the arguments of the client's next `event` (test-only). */
export function nextClientEvent<K extends keyof SignalingClientEvents>(client: SignalingClient, event: K): Promise<SignalingClientEvents[K]> {
  return new Promise((resolve) => {
    const off = client.on(event, (...args) => {
      off()
      resolve(args)
    })
  })
}
