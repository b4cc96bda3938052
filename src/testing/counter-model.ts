import type { MeshPort, MeshProtocol, MessageClaim, ProtocolMessage } from '../mesh/protocol.js'

const INCREMENT = 0x30 // an application's sub flags: above 0x2F (RESERVED_FLAG_MAX)
const STATE = 0x31

/** A replicated counter: each node counts its own increments (a grow-only CRDT); the value is their sum. */
export class Counter implements MeshProtocol<[string, number][]> {
  readonly name = 'counter'
  readonly claims: MessageClaim<[string, number][]>[] = [
    { route: 'broadcast', sub: INCREMENT, decode: counts },
    { route: 'whisper', sub: STATE, decode: counts },
  ]
  readonly #counts = new Map<string, number>()
  readonly #port: MeshPort

  constructor(mesh: { register(protocol: MeshProtocol<[string, number][]>): MeshPort }) {
    this.#port = mesh.register(this)
  }

  get value(): number {
    return [...this.#counts.values()].reduce((a, b) => a + b, 0)
  }

  increment(): Promise<void> {
    const mine = (this.#counts.get(this.#port.id) ?? 0) + 1
    this.#counts.set(this.#port.id, mine)
    return this.#port.broadcast(INCREMENT, [[this.#port.id, mine]])
  }

  onMessage({ sub, value, origin }: ProtocolMessage<[string, number][]>): void {
    // A broadcast may only raise its origin's own count; a neighbour's state is taken whole.
    for (const [id, n] of value) if ((sub === STATE || id === origin) && n > (this.#counts.get(id) ?? 0)) this.#counts.set(id, n)
  }

  onPeer(id: string): void {
    void this.#port.direct(id, STATE, [...this.#counts])
  }
}

/** The validating decoder: [[id, count], …] and nothing else (input is hostile). */
function counts(items: unknown[]): [string, number][] {
  const [list] = items
  if (items.length !== 1 || !Array.isArray(list) || list.length > 10_000) throw new TypeError('expected one list of counts')
  for (const e of list) if (!Array.isArray(e) || typeof e[0] !== 'string' || !Number.isSafeInteger(e[1]) || e[1] < 0) throw new TypeError('bad count')
  return list as [string, number][]
}
