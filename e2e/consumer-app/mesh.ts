import { MeshError, MeshSocket, P2PError, type MeshSocketOptions, type ReceivedMessage } from 'p2p-today'

// Mesh harness for e2e stories (?app=mesh&signal=…&subnet=…[&out=2][&dialTimeout=ms][&rate=n][&grace=ms][&reach=ms]).
// One MeshSocket per page, default options otherwise (signed mode, persistent identity);
// everything a test asserts on is in the DOM.
const $ = (id: string): HTMLElement => document.querySelector(`[data-testid="${id}"]`)!
const code = (err: unknown): string => (err instanceof P2PError ? err.code : String(err))

/** URL parameters that set a numeric option. */
const NUMERIC = { out: 'maxOutgoing', dialTimeout: 'dialTimeoutMs', rate: 'maxMessagesPerSecond', grace: 'rateLimitGraceMs', reach: 'reachCheckMs' } as const

export async function runMeshHarness(params: URLSearchParams): Promise<void> {
  document.body.innerHTML = `
    <h1>mesh harness</h1>
    <p>id: <code data-testid="my-id"></code> status: <span data-testid="status">starting</span></p>
    <p>peers (<span data-testid="peer-count">0</span>): <span data-testid="peers"></span></p>
    <p>last error: <span data-testid="error"></span></p>
    <input data-testid="text" /> <input data-testid="target" />
    <button data-testid="broadcast">broadcast</button>
    <button data-testid="whisper">whisper</button>
    <button data-testid="connect">connect</button>
    <span data-testid="action"></span>
    <button data-testid="show-stats">stats</button> <code data-testid="stats"></code>
    <ol data-testid="errors"></ol>
    <ol data-testid="received"></ol>`
  const options: MeshSocketOptions = { signaling: params.get('signal') ?? 'http://127.0.0.1:9000', subnet: params.get('subnet') ?? 'e2e' }
  for (const [param, option] of Object.entries(NUMERIC)) if (params.has(param)) options[option] = Number(params.get(param))
  const mesh = new MeshSocket(options)
  const showPeers = (): void => {
    $('peer-count').textContent = String(mesh.peers.length)
    $('peers').textContent = mesh.peers.join(' ')
  }
  mesh.on('peer', showPeers)
  mesh.on('peer-left', showPeers)
  // Every error, in order: "CODE" or "CODE/CAUSE" (the WireError under a BAD_FRAME), and the peer it names.
  mesh.on('error', (err) => {
    $('error').textContent = code(err)
    const item = document.createElement('li')
    item.textContent = err.cause instanceof P2PError ? `${err.code}/${err.cause.code}` : err.code
    item.dataset.peer = err instanceof MeshError ? (err.peerId ?? '') : ''
    $('errors').append(item)
  })
  // Whispers saying "ping" are answered with msg.reply("pong").
  mesh.registerHandler((msg) => {
    if (msg.type === 'whisper' && msg.payload[0] === 'ping') void msg.reply('pong', mesh.id)
    return false
  })
  mesh.on('message', (msg: ReceivedMessage) => {
    const item = document.createElement('li')
    item.dataset.sender = msg.sender
    item.textContent = `${msg.type} ${msg.sender}: ${msg.payload.map(String).join(' ')}`
    $('received').append(item)
  })
  const act = (what: string, run: () => Promise<unknown>): void => {
    $('action').textContent = `${what}…`
    run().then(
      () => ($('action').textContent = `${what} ok`),
      (err: unknown) => ($('action').textContent = `${what} failed ${code(err)}`),
    )
  }
  const text = (): string => ($('text') as HTMLInputElement).value
  const target = (): string => ($('target') as HTMLInputElement).value.trim()
  $('broadcast').addEventListener('click', () => act('broadcast', () => mesh.send(text())))
  $('whisper').addEventListener('click', () => act('whisper', () => mesh.whisper(target(), text())))
  $('connect').addEventListener('click', () => act('connect', () => mesh.connect(target())))
  $('show-stats').addEventListener('click', () => ($('stats').textContent = JSON.stringify(mesh.stats)))
  try {
    await mesh.ready()
    $('my-id').textContent = mesh.id
    showPeers()
    $('status').textContent = 'ready'
  } catch (err: unknown) {
    $('status').textContent = `failed ${code(err)}`
  }
}
