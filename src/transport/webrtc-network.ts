import { TransportError } from '../errors.js'
import { SignalingClient, type SignalingSocketConstructor } from './signaling/signaling-client.js'
import type { NetworkFactory } from './types.js'
import { WebRtcTransport, type WrtcImplementation } from './webrtc/webrtc-transport.js'

export const WEBRTC_NETWORK_DEFAULTS = Object.freeze({ connectionBudget: 400 })

/** The default network's options (part of MeshSocketOptions). */
export interface WebRtcNetworkOptions {
  /** The signaling server's URL (required with the default WebRTC network). */
  signaling?: string | undefined
  /** STUN/TURN servers; default: what the signaling server hands out (none unless configured). */
  iceServers?: RTCIceServer[] | undefined
  /** Node only: a WebRTC implementation (`@roamhq/wrtc`). */
  wrtc?: WrtcImplementation | undefined
  /** Node 20 only: a WebSocket implementation (`ws`) for the signaling client. */
  WebSocket?: SignalingSocketConstructor | undefined
  /** Give up on a WebRTC connection attempt after this long. Default 20 000 ms (WebRtcTransport's). */
  dialTimeoutMs?: number | undefined
  /** Stop making RTCPeerConnections once the page has created this many (Chromium: 500 per page). Default 400. */
  connectionBudget?: number | undefined
}

/**
 * The default network: our signaling server for bootstrap, simple-peer links. Throws
 * INVALID_OPTION at once without a signaling URL.
 */
export function webRtcNetwork(options: WebRtcNetworkOptions): NetworkFactory {
  const url = options.signaling
  if (typeof url !== 'string' || url === '') throw new TransportError('INVALID_OPTION', 'the WebRTC network needs a `signaling` server URL')
  const budget = options.connectionBudget ?? WEBRTC_NETWORK_DEFAULTS.connectionBudget
  if (typeof budget !== 'number' || !(budget >= 0)) throw new TransportError('INVALID_OPTION', `option connectionBudget must be a number >= 0, got ${String(budget)}`)
  return async ({ identity, protocolId, signaler }) => {
    const client = await SignalingClient.connect({
      url,
      identity,
      net: protocolId,
      ...(options.WebSocket === undefined ? {} : { WebSocket: options.WebSocket }),
    })
    const transport = new WebRtcTransport({
      signaler,
      iceServers: options.iceServers ?? client.iceServers,
      ...(options.wrtc === undefined ? {} : { wrtc: options.wrtc }),
      ...(options.dialTimeoutMs === undefined ? {} : { dialTimeoutMs: options.dialTimeoutMs }),
      connectionBudget: budget,
    })
    return {
      transport,
      bootstrap: client.peers,
      server: client,
      discover: () => client.discover(),
      on: (event, fn) => client.on(event, () => fn()),
      close: async () => {
        await transport.close()
        await client.close()
      },
    }
  }
}
