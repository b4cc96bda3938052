import type { Clock } from '../util/clock.js'
import { binaryKey } from '../util/bytes.js'
import { Serial, andThen, type MaybePromise } from '../util/serial.js'
import { packFrame, sealBody, type Digest, type FrameVariant } from '../wire/frame.js'
import type { Identity } from '../wire/identity.js'
import { signingInput } from '../wire/signed.js'
import { meshFrame, type MeshMessage } from './messages.js'
import type { SeenCache } from './seen-cache.js'

export interface OriginatorContext {
  identity: Identity
  protocolId: string
  variant: FrameVariant
  maxFrameBytes: number
  clock: Clock
  digest: Digest
  /** Ids this node has seen (its own included): a new message must not reuse one. */
  seen: SeenCache
}

/** A message of ours, encoded: the body (ID ‖ [K ‖ A ‖] P) every link sends, and its id. */
export interface Originated {
  body: Uint8Array
  id: Uint8Array
}

/**
 * Makes this node's flooded and routed messages: encoded once (throwing at once if the wire
 * cannot carry them), given an id that is new, signed in the signed mode, and handed on in call
 * order. In 0.7 two identical messages in the same second have the same id, so the second would
 * be dropped as a duplicate everywhere; a repeat gets its timestamp moved on by a second until its
 * id is new.
 */
export class Originator {
  readonly #ctx: OriginatorContext
  /** Our messages, in call order while one waits on an async digest or signature. */
  readonly #outbox = new Serial()

  constructor(ctx: OriginatorContext) {
    this.#ctx = ctx
  }

  originate(message: MeshMessage, go: (m: Originated) => Promise<void>): Promise<void> {
    const { identity, clock, variant } = this.#ctx
    const limits = { maxFrameBytes: this.#ctx.maxFrameBytes, variant }
    const t0 = Math.floor(clock.now() / 1000)
    const first = packFrame(meshFrame(message, identity.id, t0), limits)
    const unique = (packed: Uint8Array, t: number): MaybePromise<{ packed: Uint8Array; id: Uint8Array }> =>
      andThen(this.#ctx.digest(packed), (id) => {
        if (!this.#ctx.seen.has(binaryKey(id), clock.now())) return { packed, id }
        return unique(packFrame(meshFrame(message, identity.id, t + 1), limits), t + 1)
      })
    // Signed mode: flooded and routed messages carry our signature of their id.
    const seal = ({ packed, id }: { packed: Uint8Array; id: Uint8Array }): MaybePromise<Originated> => {
      if (variant === '0.7') return { body: sealBody(packed, id), id }
      return identity.sign(signingInput(this.#ctx.protocolId, id)).then((signature) => ({
        body: sealBody(packed, id, 'signed', { publicKey: identity.publicKey, signature }),
        id,
      }))
    }
    return this.#outbox.run(() => andThen(andThen(unique(first, t0), seal), go))
  }
}
