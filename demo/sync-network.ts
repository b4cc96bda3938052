import type { Link, Network, NetworkFactory, Transport, TransportEvents } from 'p2p-today'

/**
 * A network with a switch, to show a partition and its heal: `cut()` closes every link the
 * socket has (its peers see them close) and, until `heal()`, holds its dials back and closes any
 * link another node opens to it. The held dials go out on heal, and the table reconciles over
 * the new links. Wraps the default WebRTC network (or any), seen only through the public seam.
 */
export interface CuttableNetwork {
  readonly factory: NetworkFactory
  readonly cutOff: boolean
  cut(): void
  heal(): void
}

export function cuttableNetwork(inner: NetworkFactory): CuttableNetwork {
  const links = new Set<Link>()
  let cutOff = false
  let closed = false
  let healed: { promise: Promise<void>; resolve: () => void } | undefined

  const track = (link: Link): Link => {
    links.add(link)
    link.on('close', () => links.delete(link))
    return link
  }

  const wrap = (transport: Transport): Transport => ({
    get localId() {
      return transport.localId
    },
    get connectionsLeft() {
      return transport.connectionsLeft ?? Number.POSITIVE_INFINITY
    },
    async dial(remoteId, options) {
      // Held, not refused: a refused dial would make the mesh back off from that node for up to a minute.
      while (healed !== undefined && !closed) await healed.promise
      options?.signal?.throwIfAborted()
      const link = track(await transport.dial(remoteId, options))
      if (cutOff) void link.close()
      return link
    },
    on<K extends keyof TransportEvents>(event: K, fn: (...args: TransportEvents[K]) => void): () => void {
      if (event !== 'link') return transport.on(event, fn)
      return transport.on('link', (link) => {
        if (cutOff) return void link.close()
        ;(fn as (...args: TransportEvents['link']) => void)(track(link))
      })
    },
    close: () => {
      closed = true
      healed?.resolve() // held dials go on to the closed transport, which refuses them
      return transport.close()
    },
  })

  const factory: NetworkFactory = async (ctx) => {
    const network: Network = await inner(ctx)
    return { ...network, transport: wrap(network.transport) }
  }

  return {
    factory,
    get cutOff() {
      return cutOff
    },
    cut() {
      if (cutOff) return
      cutOff = true
      let resolve!: () => void
      const promise = new Promise<void>((r) => (resolve = r))
      healed = { promise, resolve }
      for (const link of [...links]) void link.close()
    },
    heal() {
      if (!cutOff) return
      cutOff = false
      const h = healed
      healed = undefined
      h?.resolve()
    },
  }
}
