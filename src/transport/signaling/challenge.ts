import { TransportError } from '../../errors.js'
import { isJsonObject, parseJson } from './messages.js'
import { CHALLENGE_PATH, PEERJS_KEY, SOCKET_PATH, errorCodeForReason, isRefusalReason } from './protocol.js'

/** The two endpoints of a signaling server, from the URL an application configures. */
export interface SignalingEndpoints {
  challenge: URL
  /** Without the query: the client adds the registration parameters. */
  socket: URL
}

/**
 * Accepts http(s):// (what the server prints) and ws(s):// URLs, with or without a path
 * prefix (a reverse proxy may mount the server under one). Throws SIGNALING_UNREACHABLE.
 */
export function signalingEndpoints(url: string): SignalingEndpoints {
  let base: URL
  try {
    base = new URL(url)
  } catch (err: unknown) {
    throw new TransportError('SIGNALING_UNREACHABLE', `not a URL: ${String(url)}`, { cause: err })
  }
  const secure = base.protocol === 'https:' || base.protocol === 'wss:'
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(base.protocol)) {
    throw new TransportError('SIGNALING_UNREACHABLE', `signaling URL must be http(s) or ws(s): ${url}`)
  }
  base.search = ''
  base.hash = ''
  if (!base.pathname.endsWith('/')) base.pathname += '/'
  const challenge = new URL(CHALLENGE_PATH, base)
  challenge.protocol = secure ? 'https:' : 'http:'
  const socket = new URL(SOCKET_PATH, base)
  socket.protocol = secure ? 'wss:' : 'ws:'
  return { challenge, socket }
}

/** The full WebSocket URL with the registration parameters. */
export function registrationUrl(
  socket: URL,
  params: { id: string; token: string; net: string; pub: string; nonce: string; sig: string },
): string {
  const url = new URL(socket)
  url.searchParams.set('key', PEERJS_KEY)
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value)
  return url.toString()
}

const MAX_BODY_CHARS = 4096
const NONCE = /^[A-Za-z0-9_-]{16,128}$/

/**
 * GET the challenge nonce. Network failure → SIGNALING_UNREACHABLE; a refusal → the code of
 * its reason (RATE_LIMITED, SIGNALING_REFUSED); a malformed answer → INVALID_MESSAGE.
 */
export async function fetchChallenge(url: URL, signal: AbortSignal): Promise<string> {
  let res: Response
  let text: string | undefined
  try {
    res = await fetch(url, { signal, credentials: 'omit', redirect: 'error' })
    text = await readCapped(res, MAX_BODY_CHARS)
  } catch (err: unknown) {
    throw new TransportError('SIGNALING_UNREACHABLE', `cannot reach the signaling server at ${url.origin}`, { cause: err })
  }
  if (text === undefined) throw new TransportError('INVALID_MESSAGE', 'challenge response too large')
  const parsed = parseJson(text)
  const body = parsed.ok && isJsonObject(parsed.value) ? parsed.value : undefined
  if (!res.ok) {
    const reason = isRefusalReason(body?.reason) ? body.reason : undefined
    throw new TransportError(
      reason === undefined && res.status === 429 ? 'RATE_LIMITED' : errorCodeForReason(reason),
      `signaling server refused the challenge: HTTP ${res.status}${reason === undefined ? '' : ` ${reason}`}`,
    )
  }
  if (body === undefined || typeof body.nonce !== 'string' || !NONCE.test(body.nonce)) {
    throw new TransportError('INVALID_MESSAGE', 'malformed challenge response')
  }
  return body.nonce
}

/** The body as text, or undefined (and the rest discarded) once it exceeds `max` characters. */
async function readCapped(res: Response, max: number): Promise<string | undefined> {
  const reader = res.body?.getReader()
  if (reader === undefined) return ''
  const decoder = new TextDecoder()
  let text = ''
  for (;;) {
    const { done, value } = await reader.read()
    text += done ? decoder.decode() : decoder.decode(value, { stream: true })
    if (text.length > max) {
      await reader.cancel()
      return undefined
    }
    if (done) return text
  }
}
