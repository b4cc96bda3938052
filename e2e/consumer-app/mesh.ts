import { MeshSocket, P2PError, type ReceivedMessage } from 'p2p-today'

// Mesh harness for e2e stories (?app=mesh&signal=…&subnet=…[&out=2][&dialTimeout=ms]). One
// MeshSocket per page; everything a test asserts on is in the DOM.
const $ = (id: string): HTMLElement => document.querySelector(`[data-testid="${id}"]`)!
const code = (err: unknown): string => (err instanceof P2PError ? err.code : String(err))

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
    <ol data-testid="received"></ol>`
  const num = (name: string): number | undefined => (params.has(name) ? Number(params.get(name)) : undefined)
  const mesh = new MeshSocket({
    signaling: params.get('signal') ?? 'http://127.0.0.1:9000',
    subnet: params.get('subnet') ?? 'e2e',
    ...(num('out') === undefined ? {} : { maxOutgoing: num('out')! }),
    ...(num('dialTimeout') === undefined ? {} : { dialTimeoutMs: num('dialTimeout')! }),
  })
  const showPeers = (): void => {
    $('peer-count').textContent = String(mesh.peers.length)
    $('peers').textContent = mesh.peers.join(' ')
  }
  mesh.on('peer', showPeers)
  mesh.on('peer-left', showPeers)
  mesh.on('error', (err) => ($('error').textContent = code(err)))
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
  try {
    await mesh.ready()
    $('my-id').textContent = mesh.id
    showPeers()
    $('status').textContent = 'ready'
  } catch (err: unknown) {
    $('status').textContent = `failed ${code(err)}`
  }
}
