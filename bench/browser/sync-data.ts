// The sync bench's data, the same for both libraries: keys `k00000`…, and ~30-byte values of
// short English words (compressible as real text is), fixed by the key's index and a version.

const WORDS = (
  'the of and to in is it you that he was for on are with as his they be at one have this from or had by word but what ' +
  'some we can out other were all there when up use your how said an each she which do their time if will way about many ' +
  'then them write would like so these her long make thing see him two has look more day could go come did number sound ' +
  'no most people my over know water than call first who may down side been now find river stone light green house'
).split(' ')

/** Bytes of every value (UTF-8 = characters: ASCII only). */
export const VALUE_CHARS = 30

export const keyOf = (i: number): string => `k${String(i).padStart(5, '0')}`

/** The value of key `i` at `version` (0: as filled; 1: as changed in the partition). */
export function valueOf(i: number, version: number): string {
  let x = (Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(version + 7, 0x85ebca6b)) >>> 0
  let s = ''
  while (s.length < VALUE_CHARS) {
    x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
    s += (s === '' ? '' : ' ') + WORDS[x % WORDS.length]!
  }
  return s.slice(0, VALUE_CHARS)
}

/** Raw bytes of key `i` and its value: what the wire ratios divide by. */
export const rawBytes = (i: number): number => keyOf(i).length + VALUE_CHARS

/** What a replica should hold: keys 0…n-1, at version 0 except those listed at version 1. */
export interface Want {
  n: number
  changed: number[]
}

/** Keys 0…n-1 at version 0, the listed ones at version 1; `only`: just these indices. */
export function expected(want: Want, only?: number[]): Map<string, string> {
  const v1 = new Set(want.changed)
  const out = new Map<string, string>()
  for (const i of only ?? Array.from({ length: want.n }, (_, i) => i)) out.set(keyOf(i), valueOf(i, v1.has(i) ? 1 : 0))
  return out
}
