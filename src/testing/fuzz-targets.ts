import { decodeMeshMessage } from '../mesh/messages.js'
import { meshRegistry } from './mesh-registry.js'
import { FrameCodec, type FrameCodecOptions } from '../wire/codec.js'
import { SUPPORTED_COMPRESSIONS } from '../wire/compression.js'
import { decodeFrame } from '../wire/frame.js'
import { SignatureVerifier, signingInput } from '../wire/signed.js'
import { andThen } from '../util/serial.js'
import { SIGNED_FUZZ_PROTOCOL_ID } from './fuzz-signed.js'
import type { FuzzTarget } from './fuzz.js'

/**
 * The decoder targets (test-only). Each may throw only named errors (WireError/MeshError with a
 * known code); anything else is a crash.
 */

/** `decodeFrame` with nothing negotiated: only raw bodies are read. */
export const frameTarget: FuzzTarget = {
  name: 'frame',
  run(bytes) {
    decodeFrame(bytes)
  },
}

/** Bounds small enough that ordinary inputs cross them (inflating past the size, item and depth caps). */
export const TIGHT_LIMITS: FrameCodecOptions = { maxFrameBytes: 2_048, maxItems: 48, maxDepth: 3 }

/**
 * A link's `FrameCodec` after a handshake that negotiated zlib and gzip (tries both, then raw),
 * with default bounds ('codec') or TIGHT_LIMITS ('codec-tight').
 */
export function codecTarget(tight = false): FuzzTarget {
  const codec = new FrameCodec(tight ? TIGHT_LIMITS : {})
  codec.setRemoteCompressions([...SUPPORTED_COMPRESSIONS])
  return {
    name: tight ? 'codec-tight' : 'codec',
    run(bytes) {
      codec.decode(bytes)
    },
  }
}

const registry = meshRegistry()

/** `decodeFrame` (zlib, gzip negotiated) and then `decodeMeshMessage` with a plain mesh's claims: what every link does with a frame. */
export const meshMessageTarget: FuzzTarget = {
  name: 'mesh-message',
  run(bytes) {
    return `ok:${decodeMeshMessage(decodeFrame(bytes, { compressions: [...SUPPORTED_COMPRESSIONS] }), registry).kind}`
  },
}

/**
 * The signed variant (zlib, gzip negotiated), and then what a receiver checks of a signed message:
 * its key hashes to the sender, its signature (SignatureVerifier: WebCrypto where it has Ed25519).
 * Outcomes: 'ok:link' (K = 0x00), 'ok:not-the-sender-key', 'ok:bad-signature', 'ok:signed'.
 */
export function signedFrameTarget(): FuzzTarget {
  const verifier = new SignatureVerifier()
  return {
    name: 'frame-signed',
    run(bytes) {
      const frame = decodeFrame(bytes, { variant: 'signed', compressions: [...SUPPORTED_COMPRESSIONS] })
      if (frame.auth === undefined) return 'ok:link'
      if (!verifier.idMatches(frame.auth.publicKey, frame.sender)) return 'ok:not-the-sender-key'
      const ok = verifier.verify(frame.auth.publicKey, signingInput(SIGNED_FUZZ_PROTOCOL_ID, frame.id), frame.auth.signature)
      return andThen(ok, (valid) => (valid ? 'ok:signed' : 'ok:bad-signature'))
    },
  }
}

/** The decoder targets, fresh. */
export function decoderTargets(): FuzzTarget[] {
  return [frameTarget, codecTarget(), codecTarget(true), meshMessageTarget, signedFrameTarget()]
}
