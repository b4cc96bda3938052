import { FrameCodec, type FrameCodecOptions } from '../wire/codec.js'
import { DEFAULT_COMPRESSIONS } from '../wire/compression.js'

/** Two codecs as the two ends of a link after their handshake (test-only): each knows the other's list. */
export function codecPair(a: readonly number[] = DEFAULT_COMPRESSIONS, b: readonly number[] = DEFAULT_COMPRESSIONS, options: FrameCodecOptions = {}): [FrameCodec, FrameCodec] {
  const x = new FrameCodec({ ...options, compressions: a })
  const y = new FrameCodec({ ...options, compressions: b })
  x.setRemoteCompressions(y.local)
  y.setRemoteCompressions(x.local)
  return [x, y]
}
