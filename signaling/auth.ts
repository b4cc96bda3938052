import { fromBase64url } from '../src/transport/signaling/base64url.js'
import { PEERJS_KEY, isBase58Id, registrationMessage, type RefusalReason } from '../src/transport/signaling/protocol.js'
import { verifySignature } from '../src/wire/identity.js'
import { nodeIdFromPublicKey } from '../src/wire/ids.js'
import type { NonceIssuer } from './nonces.js'

/**
 * Identity-tied registration. The WebSocket URL carries
 *   key=peerjs, id, token (PeerJS's; required, but the server replaces it), net,
 *   pub (base64url Ed25519 key), nonce, sig (base64url)
 * and the server admits it only if the nonce is its own, fresh and unused, id is the node id
 * of pub, and sig is pub's signature of "p2p-today-signaling|<nonce>|<id>|<net>".
 */
export interface Registration {
  id: string
  token: string
  net: string
  publicKey: Uint8Array
  nonce: string
  signature: Uint8Array
}

const PARAMS = ['key', 'id', 'token', 'net', 'pub', 'nonce', 'sig'] as const
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/
const MAX_URL_LENGTH = 2048

/**
 * Reads the registration from a request URL, or undefined if any parameter is missing,
 * repeated or malformed. Repeats matter: PeerJS reads the *last* `id`, so accepting
 * `?id=mine&id=yours` after checking the first would let anyone take any id.
 */
export function parseRegistration(url: string | undefined): Registration | undefined {
  if (typeof url !== 'string' || url.length > MAX_URL_LENGTH) return undefined
  let params: URLSearchParams
  try {
    params = new URL(url, 'http://signaling.invalid').searchParams
  } catch {
    return undefined
  }
  const values: Partial<Record<(typeof PARAMS)[number], string>> = {}
  for (const name of PARAMS) {
    const all = params.getAll(name)
    if (all.length !== 1) return undefined
    values[name] = all[0]!
  }
  const { key, id, token, net, pub, nonce, sig } = values as Record<(typeof PARAMS)[number], string>
  if (key !== PEERJS_KEY || !isBase58Id(id) || !isBase58Id(net) || !TOKEN.test(token)) return undefined
  const publicKey = fromBase64url(pub)
  const signature = fromBase64url(sig)
  if (publicKey?.length !== 32 || signature?.length !== 64 || nonce.length > 128) return undefined
  return { id, token, net, publicKey, nonce, signature }
}

/**
 * Checks a parsed registration and consumes its nonce on success. Resolves with the refusal
 * reason, or undefined when the registration is good. Cheap checks run first.
 */
export async function authenticate(reg: Registration, nonces: NonceIssuer): Promise<RefusalReason | undefined> {
  if (nonces.check(reg.nonce) !== 'ok') return 'STALE_NONCE'
  if (nodeIdFromPublicKey(reg.publicKey) !== reg.id) return 'ID_MISMATCH'
  const ok = await verifySignature(reg.publicKey, registrationMessage(reg.nonce, reg.id, reg.net), reg.signature)
  if (!ok) return 'BAD_SIGNATURE'
  // Two attempts with one nonce can both pass check() while verifying: only one consumes it.
  if (!nonces.consume(reg.nonce)) return 'STALE_NONCE'
  return undefined
}
