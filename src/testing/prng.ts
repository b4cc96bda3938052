/**
 * A small seeded PRNG (sfc32, state seeded by splitmix32) for simulations and property tests.
 * Same seed, same sequence, on every platform. Not for cryptography.
 */
export class Prng {
  #a: number
  #b: number
  #c: number
  #d: number

  /** `seed` is any number; it is reduced to 32 bits. */
  constructor(seed: number) {
    let s = Math.trunc(seed) >>> 0
    const splitmix = (): number => {
      s = (s + 0x9e3779b9) | 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
      return (z ^ (z >>> 16)) >>> 0
    }
    this.#a = splitmix()
    this.#b = splitmix()
    this.#c = splitmix()
    this.#d = splitmix()
    for (let i = 0; i < 12; i++) this.uint32()
  }

  /** A uniform integer in [0, 2^32). */
  uint32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0
    this.#d = (this.#d + 1) | 0
    this.#a = this.#b ^ (this.#b >>> 9)
    this.#b = (this.#c + (this.#c << 3)) | 0
    this.#c = (this.#c << 21) | (this.#c >>> 11)
    this.#c = (this.#c + t) | 0
    return t >>> 0
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296
  }

  /** A uniform integer in [0, n); `n` must be a positive integer up to 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) throw new RangeError(`int(n) needs an integer in [1, 2^32], got ${n}`)
    return Math.floor(this.next() * n)
  }

  /** A uniform float in [min, max); `min` when they are equal. */
  range(min: number, max: number): number {
    return min + this.next() * (max - min)
  }

  /** True with probability `p`. Draws nothing when `p` is 0 or 1, so an option left off does not shift the sequence. */
  chance(p: number): boolean {
    if (p <= 0) return false
    if (p >= 1) return true
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick() from an empty array')
    return items[this.int(items.length)] as T
  }

  /** Fisher–Yates, in place; returns `items`. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const tmp = items[i] as T
      items[i] = items[j] as T
      items[j] = tmp
    }
    return items
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length)
    for (let i = 0; i < length; i += 4) {
      let v = this.uint32()
      for (let k = i; k < Math.min(i + 4, length); k++, v >>>= 8) out[k] = v & 0xff
    }
    return out
  }

  /** An independent generator seeded from this one (advances this one by one draw). */
  fork(): Prng {
    return new Prng(this.uint32())
  }
}
