import { Identity, SignatureVerifier, fromHex, handshakeInput, toHex, type DecodedFrame } from 'p2p-today'
import { el, field } from './dom.js'

/** The wire lab's signed-variant helpers: keys held by WebCrypto, verification, the handshake input. */

// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410).
const PKCS8_PREFIX = fromHex('302e020100300506032b657004220420')
const ED25519 = { name: 'Ed25519' } as const

/**
 * An identity for a 32-byte Ed25519 seed (hex), held and used by WebCrypto: the key is imported
 * as PKCS#8, its public half read from the JWK export, and every signature made by
 * `crypto.subtle.sign`, as a node signs.
 */
export async function identityFromSeed(seedHex: string): Promise<Identity> {
  const seed = fromHex(seedHex.trim())
  if (seed.length !== 32) throw new TypeError('an Ed25519 seed is 32 bytes (64 hex digits)')
  const pkcs8 = new Uint8Array(PKCS8_PREFIX.length + seed.length)
  pkcs8.set(PKCS8_PREFIX)
  pkcs8.set(seed, PKCS8_PREFIX.length)
  const key = await crypto.subtle.importKey('pkcs8', pkcs8, ED25519, true, ['sign'])
  const { x } = await crypto.subtle.exportKey('jwk', key)
  if (x === undefined) throw new TypeError('WebCrypto exported no public key')
  const publicKey = Uint8Array.from(atob(x.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))
  return Identity.fromCryptoKey(publicKey, key)
}

const verifier = new SignatureVerifier()

/** What a receiver checks of a decoded signed frame, in words: the key is the sender's, the signature holds. */
export async function describeAuth(frame: DecodedFrame, signingInput: Uint8Array): Promise<string> {
  if (frame.auth === undefined) return 'K = 0x00: authenticated by the link (no signature)'
  const { publicKey, signature } = frame.auth
  const ok = await verifier.verify(publicKey, signingInput, signature)
  const owner = verifier.idMatches(publicKey, frame.sender) ? "key is the sender's" : "key is NOT the sender's"
  return `${ok ? 'valid signature' : 'INVALID signature'} (${await verifier.ready()}); ${owner}`
}

/**
 * The handshake panel: the bytes each end of a signed-mode link signs (`handshakeInput`), for the
 * signer and protocol id `current()` gives, and their signature.
 */
export function handshakePanel(current: () => Promise<{ identity: Identity; protocolId: string }>, describeError: (err: unknown) => string): HTMLElement {
  const panel = el('section', { class: 'panel', 'data-testid': 'handshake-panel' })
  const peer = el('input', { type: 'text', value: '', 'data-testid': 'hs-peer' })
  const signerNonce = el('input', { type: 'text', value: '00'.repeat(32), 'data-testid': 'hs-signer-nonce' })
  const peerNonce = el('input', { type: 'text', value: '11'.repeat(32), 'data-testid': 'hs-peer-nonce' })
  const build = el('button', { 'data-testid': 'hs-build' }, 'Sign')
  const input = el('div', { class: 'out mono', 'data-testid': 'hs-input' })
  const signature = el('div', { class: 'out mono', 'data-testid': 'hs-signature' })
  build.addEventListener('click', () => {
    void (async () => {
      try {
        const { identity, protocolId } = await current()
        const bytes = handshakeInput(protocolId, identity.id, peer.value.trim(), fromHex(signerNonce.value.trim()), fromHex(peerNonce.value.trim()))
        input.textContent = toHex(bytes)
        signature.textContent = toHex(await identity.sign(bytes))
        signature.classList.remove('error')
      } catch (err: unknown) {
        signature.textContent = describeError(err)
        signature.classList.add('error')
      }
    })()
  })
  panel.append(
    el('h2', {}, 'Signed handshake (what each end of a link signs)'),
    field('Peer id', peer),
    field('Own nonce (hex)', signerNonce),
    field("Peer's nonce (hex)", peerNonce),
    build,
    field('Signed bytes (hex)', input),
    field('Signature (hex)', signature),
  )
  return panel
}
