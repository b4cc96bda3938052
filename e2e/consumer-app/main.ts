import { FLAGS, FrameCodec, Identity, P2PError, SignalingClient, WebRtcTransport, protocolId, type Link } from 'p2p-today'

// URL: ?signal=<signaling server url>&subnet=<name>. Every link exchanges frames in the 0.7
// format: first a handshake whisper carrying the compression list, then user whispers.
const $ = (id: string): HTMLElement => document.querySelector(`[data-testid="${id}"]`)!
const params = new URLSearchParams(location.search)
const status = (text: string): void => void ($('status').textContent = text)

async function main(): Promise<void> {
  const identity = await Identity.generate()
  $('my-id').textContent = identity.id
  const client = await SignalingClient.connect({
    url: params.get('signal') ?? 'http://127.0.0.1:9000',
    identity,
    net: protocolId(params.get('subnet') ?? 'e2e', 'webrtc'),
  })
  $('bootstrap').textContent = client.peers.join(' ')
  const transport = new WebRtcTransport({ signaler: client, iceServers: client.iceServers })
  const links = new Map<Link, FrameCodec>()
  const time = (): number => Math.floor(Date.now() / 1000)

  const adopt = (link: Link): void => {
    const codec = new FrameCodec()
    links.set(link, codec)
    $('links').textContent = String(links.size)
    link.on('message', (bytes) => {
      try {
        const frame = codec.decode(bytes)
        if (frame.payload[0] === FLAGS.handshake) return codec.setRemoteCompressions(frame.payload[1])
        const item = document.createElement('li')
        item.textContent = `${frame.sender}: ${String(frame.payload[1])}`
        $('received').append(item)
      } catch (err: unknown) {
        status(`decode error ${err instanceof P2PError ? err.code : String(err)}`)
      }
    })
    link.on('close', () => {
      links.delete(link)
      $('links').textContent = String(links.size)
    })
    void link.send(codec.encode({ type: FLAGS.whisper, sender: identity.id, time: time(), payload: [FLAGS.handshake, [...codec.local]] }))
  }
  transport.on('link', adopt)

  $('dial').addEventListener('click', () => {
    const target = ($('dial-target') as HTMLInputElement).value.trim()
    status(`dialling ${target}`)
    transport.dial(target).then(
      (link) => {
        adopt(link)
        status('connected')
      },
      (err: unknown) => status(`dial failed ${err instanceof P2PError ? err.code : String(err)}`),
    )
  })
  $('send').addEventListener('click', () => {
    const text = ($('message') as HTMLInputElement).value
    for (const [link, codec] of links) {
      void link.send(codec.encode({ type: FLAGS.whisper, sender: identity.id, time: time(), payload: [FLAGS.whisper, text] }))
    }
  })
  status('ready')
}

if (params.get('app') === 'mesh') {
  void import('./mesh.js').then(({ runMeshHarness }) => runMeshHarness(params))
} else if (params.get('app') === 'hostile') {
  import('./hostile.js')
    .then(({ runHostile }) => runHostile(params))
    .catch((err: unknown) => status(`failed ${err instanceof P2PError ? err.code : String(err)}`))
} else {
  main().catch((err: unknown) => status(`failed ${err instanceof P2PError ? err.code : String(err)}`))
}
