import { SignalingClient, type SignalingSocketConstructor } from '../transport/signaling/signaling-client.js'
import type { Signaler, Transport } from '../transport/types.js'
import { WebRtcTransport, type WrtcImplementation } from '../transport/webrtc/webrtc-transport.js'
import type { Identity } from '../wire/identity.js'

/** How a MeshSocket reaches other nodes: a transport, and where to start. */
export interface MeshNetwork {
  transport: Transport
  /** Nodes of the subnet to dial first (the signaling server's sample). */
  bootstrap: string[]
  /** The signaling server's signaler while it is connected (used until the mesh has a peer). */
  server?: Signaler
  /** More bootstrap ids, when the mesh has none left to try. */
  discover?(): Promise<string[]>
  close(): Promise<void>
}

export interface MeshNetworkContext {
  identity: Identity
  protocolId: string
  /** The signaler the transport must use: the mesh relay once it has peers, else the server. */
  signaler: Signaler
}

/** Makes the network for a socket. The default is WebRTC bootstrapped by a signaling server. */
export type MeshNetworkFactory = (ctx: MeshNetworkContext) => Promise<MeshNetwork>

export interface WebRtcNetworkOptions {
  signaling: string
  iceServers?: RTCIceServer[] | undefined
  wrtc?: WrtcImplementation | undefined
  WebSocket?: SignalingSocketConstructor | undefined
  dialTimeoutMs?: number | undefined
  connectionBudget?: number | undefined
}

/** The default network: our signaling server for bootstrap, simple-peer links. */
export function webRtcNetwork(options: WebRtcNetworkOptions): MeshNetworkFactory {
  return async ({ identity, protocolId, signaler }) => {
    const client = await SignalingClient.connect({
      url: options.signaling,
      identity,
      net: protocolId,
      ...(options.WebSocket === undefined ? {} : { WebSocket: options.WebSocket }),
    })
    const transport = new WebRtcTransport({
      signaler,
      iceServers: options.iceServers ?? client.iceServers,
      ...(options.wrtc === undefined ? {} : { wrtc: options.wrtc }),
      ...(options.dialTimeoutMs === undefined ? {} : { dialTimeoutMs: options.dialTimeoutMs }),
      ...(options.connectionBudget === undefined ? {} : { connectionBudget: options.connectionBudget }),
    })
    return {
      transport,
      bootstrap: client.peers,
      server: client,
      discover: () => client.discover(),
      close: async () => {
        await transport.close()
        await client.close()
      },
    }
  }
}
