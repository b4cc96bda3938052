import fc from 'fast-check'

/** fast-check arbitraries for wire values and messages (test-only). */

/** A wire value that round-trips exactly (no -0, which msgpack writes as the integer 0). */
export const wireValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double().filter((d) => !Object.is(d, -0)),
    fc.bigInt({ min: 1n << 53n, max: (1n << 64n) - 1n }),
    fc.bigInt({ min: -(1n << 63n), max: -(1n << 53n) - 1n }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.uint8Array({ maxLength: 64 }),
  ),
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('leaf'),
    fc.array(tie('tree'), { maxLength: 5 }),
    fc.dictionary(
      fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__'),
      tie('tree'),
      { maxKeys: 5 },
    ),
  ),
})).tree

export const senderId = fc
  .bigInt({ min: 0n, max: (1n << 384n) - 1n })
  .map((n) => {
    const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
    let s = ''
    do {
      s = alphabet.charAt(Number(n % 58n)) + s
      n /= 58n
    } while (n > 0n)
    return s
  })

export const frameMessage = fc.record({
  type: fc.integer({ min: 0, max: 0xff }),
  sender: senderId,
  time: fc.integer({ min: 0, max: 2 ** 40 }),
  payload: fc.array(wireValue, { maxLength: 6 }),
})
