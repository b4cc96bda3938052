import { bench, describe } from 'vitest'
import { COMPRESSION, FrameCodec, compress, decodeFrame, encodeFrame } from '../src/wire/index.js'

// Wire-layer throughput and the opportunistic-compression threshold.
// Run: npm run bench:wire   (results recorded in docs/BENCHMARKS.md)

const SENDER = '6VnYj9LjoVLTvU3uPhy4nxm6yv2wEvhaRtGHeV9wwFngWGGqKAzuZ8jK6gFuvq737V'
const words = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau'.split(' ')
/** Chat/JSON-like text: what collaborative apps mostly send. */
function text(bytes: number, seed = 1): string {
  let s = ''
  let x = seed
  while (s.length < bytes) {
    x = (x * 1103515245 + 12345) % 2 ** 31
    s += words[x % words.length] + (x % 7 === 0 ? '. ' : ' ')
  }
  return s.slice(0, bytes)
}
const random = (n: number): Uint8Array => {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)))
  return out
}
const msg = (payload: unknown[]) => ({ type: 0, sender: SENDER, time: 1_500_000_000, payload: [0, ...payload] })

// Compressed sizes and the cost of trying, by body size (printed once per run).
const rows: string[] = []
for (const size of [64, 128, 256, 512, 1024, 4096, 65536]) {
  const raw = encodeFrame(msg([text(size)]))
  const body = raw.subarray(4)
  const t0 = performance.now()
  let z: Uint8Array = new Uint8Array()
  for (let i = 0; i < 200; i++) z = compress(COMPRESSION.zlib, body)
  const us = ((performance.now() - t0) / 200) * 1000
  rows.push(`| ${size} | ${body.length} | ${z.length} | ${(100 * (1 - z.length / body.length)).toFixed(1)}% | ${us.toFixed(1)} µs |`)
}
console.log(['', '| text payload | raw body | zlib body | saved | zlib time |', '|---|---|---|---|---|', ...rows].join('\n'))

for (const [label, payload] of [
  ['100-byte text', [text(100)]],
  ['64 KiB text', [text(65536)]],
  ['64 KiB random bin', [random(65536)]],
] as const) {
  describe(`${label} frame`, () => {
    const m = msg([...payload])
    const raw = encodeFrame(m)
    const zlib = encodeFrame(m, { compression: COMPRESSION.zlib })
    const gzip = encodeFrame(m, { compression: COMPRESSION.gzip })
    console.log(`${label}: raw ${raw.length} B, zlib ${zlib.length} B, gzip ${gzip.length} B`)
    bench('encode raw', () => void encodeFrame(m))
    bench('encode zlib', () => void encodeFrame(m, { compression: COMPRESSION.zlib }))
    bench('encode gzip', () => void encodeFrame(m, { compression: COMPRESSION.gzip }))
    bench('decode raw (no method negotiated)', () => void decodeFrame(raw))
    bench('decode raw (zlib negotiated: tried first)', () => void decodeFrame(raw, { compressions: [COMPRESSION.zlib, COMPRESSION.gzip] }))
    bench('decode zlib', () => void decodeFrame(zlib, { compressions: [COMPRESSION.zlib] }))
    bench('decode gzip', () => void decodeFrame(gzip, { compressions: [COMPRESSION.gzip] }))
    const codec = new FrameCodec()
    codec.setRemoteCompressions([COMPRESSION.zlib])
    bench('FrameCodec.encode (opportunistic)', () => void codec.encode(m))
  })
}

// Number-heavy payloads, as the sync table sends: 64 rows of [key, ms timestamp, lease end, small
// counter, float]. The timestamps are safe integers above 2^32, sent as msgpack uint64 (0xcf).
describe('64 rows of integers frame', () => {
  const rows = Array.from({ length: 64 }, (_, i) => [`k${i}`, 1_700_000_000_000 + i * 37, 2 ** 40 + i, i, i + 0.5])
  const m = msg([rows])
  const raw = encodeFrame(m)
  console.log(`64 rows of integers: raw ${raw.length} B`)
  bench('encode raw', () => void encodeFrame(m))
  bench('decode raw (no method negotiated)', () => void decodeFrame(raw))
})
