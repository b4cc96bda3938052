import { describe, expect, it } from 'vitest'
import { NonceIssuer } from './nonces.js'
import { FakeClock } from './testing.js'

function issuer(clock = new FakeClock(), extra: { maxRemembered?: number; secret?: Uint8Array } = {}) {
  return { clock, nonces: new NonceIssuer({ ttlMs: 30_000, now: clock.read, ...extra }) }
}

describe('NonceIssuer', () => {
  it('issues distinct base64url nonces that check ok until consumed, once', () => {
    const { nonces } = issuer()
    const a = nonces.issue()
    const b = nonces.issue()
    expect(a).not.toBe(b)
    expect(a).toMatch(/^[A-Za-z0-9_-]{54}$/)
    expect(nonces.check(a)).toBe('ok')
    expect(nonces.consume(a)).toBe(true)
    expect(nonces.check(a)).toBe('stale')
    expect(nonces.consume(a)).toBe(false)
    expect(nonces.check(b)).toBe('ok')
  })

  it('expires nonces after the TTL, and refuses timestamps from the future', () => {
    const { clock, nonces } = issuer()
    const n = nonces.issue()
    clock.advance(29_999)
    expect(nonces.check(n)).toBe('ok')
    clock.advance(1)
    expect(nonces.check(n)).toBe('stale')
    expect(nonces.consume(n)).toBe(false)
    const later = nonces.issue()
    clock.advance(-1)
    expect(nonces.check(later)).toBe('stale')
  })

  it('refuses forged, truncated, re-encoded and foreign nonces', () => {
    const { clock, nonces } = issuer()
    const other = new NonceIssuer({ ttlMs: 30_000, now: clock.read })
    const n = nonces.issue()
    const flipped = (n[10] === 'A' ? 'B' : 'A')
    expect(nonces.check(n.slice(0, 10) + flipped + n.slice(11))).toBe('stale')
    expect(nonces.check(n.slice(0, -1))).toBe('stale')
    expect(nonces.check(`${n}=`)).toBe('stale')
    expect(nonces.check(other.issue())).toBe('stale')
    expect(nonces.check('')).toBe('stale')
    expect(nonces.check('x'.repeat(54))).toBe('stale')
  })

  it('accepts nonces across instances that share a secret (restartable with a fixed key)', () => {
    const clock = new FakeClock()
    const secret = new Uint8Array(32).fill(7)
    const a = new NonceIssuer({ ttlMs: 30_000, now: clock.read, secret })
    const b = new NonceIssuer({ ttlMs: 30_000, now: clock.read, secret })
    expect(b.check(a.issue())).toBe('ok')
  })

  it('forgets consumed nonces once they expire, and bounds how many it remembers', () => {
    const { clock, nonces } = issuer(new FakeClock(), { maxRemembered: 3 })
    for (let i = 0; i < 3; i++) expect(nonces.consume(nonces.issue())).toBe(true)
    expect(nonces.remembered).toBe(3)
    // Full: a fourth valid nonce is refused rather than forgetting a used one (replay).
    expect(nonces.consume(nonces.issue())).toBe(false)
    clock.advance(30_000)
    expect(nonces.remembered).toBe(0)
    expect(nonces.consume(nonces.issue())).toBe(true)
  })
})
