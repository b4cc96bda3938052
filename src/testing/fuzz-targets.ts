import { decodeMeshMessage } from '../mesh/messages.js'
import { meshRegistry } from './mesh-registry.js'
import { FrameCodec, type FrameCodecOptions } from '../wire/codec.js'
import { SUPPORTED_COMPRESSIONS } from '../wire/compression.js'
import { decodeFrame, encodeBody } from '../wire/frame.js'
import { SignatureVerifier, signingInput } from '../wire/signed.js'
import { LANE_BITS } from '../wire/stream.js'
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
  const codec = new FrameCodec({ compressions: SUPPORTED_COMPRESSIONS, ...(tight ? TIGHT_LIMITS : {}) })
  codec.setRemoteCompressions([...SUPPORTED_COMPRESSIONS])
  return {
    name: tight ? 'codec-tight' : 'codec',
    run(bytes) {
      codec.decode(bytes)
    },
  }
}

/**
 * A link's deflate stream (stream.ts) in mid-flow: per input, a fresh codec pair first passes two
 * valid stream frames (one per lane), so the input meets an inflater with history behind it. Half
 * the inputs go as they are, LEN's top bits naming a lane and LEN set to their length; the other
 * half are framed by the sender as a body (a valid piece), then one bit of the piece is flipped
 * (or none), to reach what inflates into bad frames. Outcomes: 'ok', STREAM_BROKEN,
 * FRAME_TOO_LARGE and the frame codes.
 */
export function codecStreamTarget(): FuzzTarget {
  const msg = { type: 0x02, sender: '2'.repeat(66), time: 1_500_000_000, payload: [0x14, 7, new Uint8Array(40).fill(9), 'abc'.repeat(40)] }
  return {
    name: 'codec-stream',
    run(bytes) {
      if (bytes.length < 4) return 'short'
      const [sender, receiver] = [new FrameCodec(), new FrameCodec()]
      sender.setRemoteCompressions(receiver.local)
      receiver.setRemoteCompressions(sender.local)
      receiver.decode(sender.encode(msg))
      receiver.decode(sender.frame(encodeBody(msg), undefined, true))
      const urgent = (bytes[0]! & 0x80) !== 0
      let frame: Uint8Array
      if ((bytes[0]! & 0x40) === 0) {
        frame = bytes.slice()
        new DataView(frame.buffer).setUint32(0, (LANE_BITS[urgent ? 1 : 0] | (frame.length - 4)) >>> 0, false)
      } else {
        frame = sender.frame(bytes.subarray(4), undefined, urgent).slice()
        const bit = bytes[1]! * 256 + bytes[2]!
        if (bit < (frame.length - 4) * 8) frame[4 + (bit >> 3)]! ^= 1 << (bit & 7)
      }
      receiver.decode(frame)
      return 'ok'
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
  return [frameTarget, codecTarget(), codecTarget(true), codecStreamTarget(), meshMessageTarget, signedFrameTarget()]
}
