import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * Stateless challenge nonces: base64url(timestamp ‖ 16 random bytes ‖ truncated HMAC-SHA256)
 * under a per-process secret. Issuing stores nothing; checking recomputes the MAC and the age.
 * Single use is enforced by remembering consumed nonces until they expire (bounded: entries
 * older than the TTL are dropped, and past `maxRemembered` new consumptions are refused).
 */
const TS_BYTES = 8
const RANDOM_BYTES = 16
const MAC_BYTES = 16
const NONCE_BYTES = TS_BYTES + RANDOM_BYTES + MAC_BYTES

export type NonceCheck = 'ok' | 'stale'

export interface NonceIssuerOptions {
  ttlMs: number
  now: () => number
  /** HMAC key; default 32 random bytes (nonces die with the process). */
  secret?: Uint8Array
  /** Most consumed nonces remembered at once. Default 100 000. */
  maxRemembered?: number
}

export class NonceIssuer {
  readonly #ttlMs: number
  readonly #now: () => number
  readonly #secret: Uint8Array
  readonly #maxRemembered: number
  /** Consumed nonce → its expiry time; insertion order is roughly expiry order. */
  readonly #used = new Map<string, number>()

  constructor(options: NonceIssuerOptions) {
    this.#ttlMs = options.ttlMs
    this.#now = options.now
    this.#secret = options.secret ?? randomBytes(32)
    this.#maxRemembered = options.maxRemembered ?? 100_000
  }

  get ttlMs(): number {
    return this.#ttlMs
  }

  issue(): string {
    const body = Buffer.alloc(TS_BYTES + RANDOM_BYTES)
    body.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(this.#now()))), 0)
    randomBytes(RANDOM_BYTES).copy(body, TS_BYTES)
    return Buffer.concat([body, this.#mac(body)]).toString('base64url')
  }

  /** 'ok' if `nonce` was issued here, is younger than the TTL and was not consumed. */
  check(nonce: string): NonceCheck {
    const expiry = this.#expiry(nonce)
    if (expiry === undefined || this.#used.has(nonce)) return 'stale'
    return 'ok'
  }

  /** Marks `nonce` used. False if it is not valid (any more), or was consumed already. */
  consume(nonce: string): boolean {
    const expiry = this.#expiry(nonce)
    if (expiry === undefined || this.#used.has(nonce)) return false
    this.#prune()
    if (this.#used.size >= this.#maxRemembered) return false
    this.#used.set(nonce, expiry)
    return true
  }

  /** Consumed nonces currently remembered (for limits and tests of the bound). */
  get remembered(): number {
    this.#prune()
    return this.#used.size
  }

  #mac(body: Uint8Array): Buffer {
    return createHmac('sha256', this.#secret).update(body).digest().subarray(0, MAC_BYTES)
  }

  /** The nonce's expiry time if it is authentic and fresh, else undefined. */
  #expiry(nonce: string): number | undefined {
    if (typeof nonce !== 'string' || nonce.length !== Math.ceil((NONCE_BYTES * 4) / 3) || !/^[A-Za-z0-9_-]+$/.test(nonce)) return undefined
    const raw = Buffer.from(nonce, 'base64url')
    if (raw.length !== NONCE_BYTES || raw.toString('base64url') !== nonce) return undefined
    const body = raw.subarray(0, TS_BYTES + RANDOM_BYTES)
    if (!timingSafeEqual(raw.subarray(TS_BYTES + RANDOM_BYTES), this.#mac(body))) return undefined
    const issuedAt = Number(raw.readBigUInt64BE(0))
    const now = this.#now()
    if (issuedAt > now || now - issuedAt >= this.#ttlMs) return undefined
    return issuedAt + this.#ttlMs
  }

  #prune(): void {
    const now = this.#now()
    for (const [nonce, expiry] of this.#used) {
      if (expiry > now) break
      this.#used.delete(nonce)
    }
  }
}
