import {
  COMPRESSION,
  ID_BYTES,
  Identity,
  P2PError,
  decodeFrame,
  encodeBody,
  encodeFrame,
  protocolId,
  signedProtocolId,
  signingInput,
  toHex,
  type FrameAuth,
  type FrameMessage,
} from 'p2p-today'
import { el, field } from './dom.js'
import { describeAuth, handshakePanel, identityFromSeed } from './signed-lab.js'

/**
 * The "Wire lab" panels: protocol ids, a node identity, frames encoded/decoded live in either
 * layout (0.7, or the signed variant: link-authenticated or signed with WebCrypto Ed25519), and
 * the signed handshake's input.
 */

function describeError(err: unknown): string {
  return err instanceof P2PError ? `${err.code}: ${err.message}` : String(err)
}

/** JSON payload, with strings turned into bytes (msgpack bin, as py2p sends) when asked. */
function parsePayload(json: string, stringsAsBin: boolean): unknown[] {
  const value: unknown = JSON.parse(json)
  if (!Array.isArray(value)) throw new TypeError('the payload is a JSON array, e.g. [0, "hello"]')
  const convert = (v: unknown): unknown =>
    typeof v === 'string' && stringsAsBin ? new TextEncoder().encode(v) : Array.isArray(v) ? v.map(convert) : v
  return value.map(convert)
}

function showValue(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x instanceof Uint8Array ? `bin:${new TextDecoder().decode(x)}` : typeof x === 'bigint' ? `${x}n` : x,
  )
}

export async function mountWireLab(root: HTMLElement): Promise<void> {
  // Identity panel
  const identityPanel = el('section', { class: 'panel', 'data-testid': 'identity-panel' })
  const nodeId = el('div', { class: 'out mono', 'data-testid': 'node-id' }, '…')
  const backend = el('div', { class: 'out', 'data-testid': 'crypto-backend' }, '…')
  const regenerate = el('button', { 'data-testid': 'new-identity' }, 'New identity')
  identityPanel.append(el('h2', {}, 'Node identity (Ed25519)'), field('Node id', nodeId), field('Crypto', backend), regenerate)
  let identity = await Identity.generate()
  const showIdentity = (): void => {
    nodeId.textContent = identity.id
    backend.textContent = identity.backend
  }
  regenerate.addEventListener('click', () => {
    void Identity.generate().then((next) => {
      identity = next
      showIdentity()
    })
  })
  showIdentity()

  // Protocol id panel
  const protoPanel = el('section', { class: 'panel', 'data-testid': 'protocol-panel' })
  const subnet = el('input', { type: 'text', value: 'demo', 'data-testid': 'subnet' })
  const transport = el('input', { type: 'text', value: 'webrtc', 'data-testid': 'transport' })
  const protoOut = el('div', { class: 'out mono', 'data-testid': 'protocol-id' })
  const signedProtoOut = el('div', { class: 'out mono', 'data-testid': 'signed-protocol-id' })
  const updateProto = (): void => {
    protoOut.textContent = protocolId(subnet.value, transport.value)
    signedProtoOut.textContent = signedProtocolId(subnet.value, transport.value)
  }
  subnet.addEventListener('input', updateProto)
  transport.addEventListener('input', updateProto)
  updateProto()
  protoPanel.append(el('h2', {}, 'Protocol (subnet) id'), field('Subnet', subnet), field('Transport', transport), field('Protocol id', protoOut), field('Signed mode', signedProtoOut))

  // Frame panel
  const framePanel = el('section', { class: 'panel', 'data-testid': 'frame-panel' })
  const sender = el('input', { type: 'text', value: identity.id, 'data-testid': 'frame-sender' })
  const time = el('input', { type: 'text', value: String(Math.floor(Date.now() / 1000)), 'data-testid': 'frame-time' })
  const type = el('input', { type: 'text', value: '0', 'data-testid': 'frame-type' })
  const payload = el('textarea', { 'data-testid': 'frame-payload' })
  payload.value = '[0, "hello"]'
  const asBin = el('input', { type: 'checkbox', 'data-testid': 'frame-bin' })
  const compression = el('select', { 'data-testid': 'frame-compression' })
  for (const [name, value] of [['none', ''], ['zlib', String(COMPRESSION.zlib)], ['gzip', String(COMPRESSION.gzip)]] as const) {
    compression.append(el('option', { value }, name))
  }
  const variant = el('select', { 'data-testid': 'frame-variant' })
  for (const [name, value] of [['0.7', '0.7'], ['signed variant, link-authenticated (K = 0x00)', 'link'], ['signed variant, Ed25519 signature (K = 0x01)', 'ed25519']] as const) {
    variant.append(el('option', { value }, name))
  }
  const seed = el('input', { type: 'text', value: '', placeholder: "empty: this page's identity", 'data-testid': 'frame-seed' })
  const encodeButton = el('button', { 'data-testid': 'frame-encode' }, 'Encode')
  const frameHex = el('div', { class: 'out mono', 'data-testid': 'frame-hex' })
  const frameLen = el('div', { class: 'out', 'data-testid': 'frame-length' })
  const frameId = el('div', { class: 'out mono', 'data-testid': 'frame-id' })
  const decoded = el('div', { class: 'out mono', 'data-testid': 'frame-decoded' })
  const signerId = el('div', { class: 'out mono', 'data-testid': 'frame-signer' })
  const signatureHex = el('div', { class: 'out mono', 'data-testid': 'frame-signature' })
  const authCheck = el('div', { class: 'out', 'data-testid': 'frame-auth' })
  const signer = (): Promise<Identity> => (seed.value.trim() === '' ? Promise.resolve(identity) : identityFromSeed(seed.value))
  const signedPid = (): string => signedProtocolId(subnet.value, transport.value)
  encodeButton.addEventListener('click', () => {
    void (async () => {
      try {
        const method = compression.value === '' ? undefined : Number(compression.value)
        const msg: FrameMessage = { type: Number(type.value), sender: sender.value, time: Number(time.value), payload: parsePayload(payload.value, asBin.checked) }
        const signed = variant.value !== '0.7'
        let auth: FrameAuth | undefined
        signerId.textContent = signatureHex.textContent = '—'
        if (variant.value === 'ed25519') {
          // Sign the 32-byte id (with the protocol id), not the body: docs/protocol.md, "Signed frames".
          const key = await signer()
          const id = encodeBody(msg, { variant: 'signed' }).slice(0, ID_BYTES)
          auth = { publicKey: key.publicKey, signature: await key.sign(signingInput(signedPid(), id)) }
          signerId.textContent = key.id
          signatureHex.textContent = toHex(auth.signature)
        }
        const frame = encodeFrame(msg, { ...(signed ? { variant: 'signed' } : {}), ...(auth === undefined ? {} : { auth }), ...(method === undefined ? {} : { compression: method }) })
        const back = decodeFrame(frame, { ...(signed ? { variant: 'signed' } : {}), ...(method === undefined ? {} : { compressions: [method] }) })
        frameHex.textContent = toHex(frame)
        frameLen.textContent = `${frame.length} bytes`
        frameId.textContent = toHex(back.id)
        decoded.textContent = showValue({ type: back.type, sender: back.sender, time: back.time, payload: back.payload })
        decoded.classList.remove('error')
        authCheck.textContent = signed ? await describeAuth(back, signingInput(signedPid(), back.id)) : '— (0.7 frames carry no authentication)'
      } catch (err: unknown) {
        decoded.textContent = describeError(err)
        decoded.classList.add('error')
      }
    })()
  })
  framePanel.append(
    el('h2', {}, 'Frame lab'),
    field('Main flag', type),
    field('Sender', sender),
    field('Time (s)', time),
    field('Payload (JSON)', payload),
    field('Strings as bin', asBin),
    field('Compression', compression),
    field('Layout', variant),
    field('Ed25519 seed (hex)', seed),
    encodeButton,
    field('Frame (hex)', frameHex),
    field('Length', frameLen),
    field('Message id', frameId),
    field('Decoded', decoded),
    field('Signer', signerId),
    field('Signature', signatureHex),
    field('Receiver checks', authCheck),
  )

  const hsPanel = handshakePanel(async () => ({ identity: await signer(), protocolId: signedPid() }), describeError)
  root.append(identityPanel, protoPanel, framePanel, hsPanel)
  root.dataset.ready = 'true'
}
