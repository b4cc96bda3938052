import { bench, describe } from 'vitest'
import { RbsrSession, RbsrStore, type RbsrItem } from '../src/sync/rbsr.js'
import { Prng } from '../src/testing/prng.js'

// Range-based set reconciliation (anti-entropy of the sync table): one whole reconciliation of two
// in-memory stores, messages passed directly (no I/O). The stores are built once; their snapshots
// (sorted arrays, prefix sums) are cached, so this times the protocol's own work.
// Run: npx vitest bench --run bench/rbsr.bench.ts

const T = 1_700_000_000_000

function items(n: number, rng: Prng): RbsrItem[] {
  const out: RbsrItem[] = []
  for (let i = 0; i < n; i++) out.push({ time: T + rng.int(86_400_000), id: rng.bytes(16) })
  return out
}

/** N shared items and d more, split between the sides. */
function pair(n: number, d: number, seed: number): [RbsrItem[], RbsrItem[]] {
  const rng = new Prng(seed)
  const shared = items(n, rng)
  const a = shared.slice()
  const b = shared.slice()
  for (const [i, item] of items(d, rng).entries()) (i % 2 === 0 ? a : b).push(item)
  return [a, b]
}

function reconcile(a: RbsrStore, b: RbsrStore): { messages: number; bytes: number } {
  const initiator = new RbsrSession(a, 'initiator')
  const responder = new RbsrSession(b, 'responder')
  let msg: Uint8Array | undefined = initiator.initiate()
  let messages = 0
  let bytes = 0
  for (let turn = 0; msg !== undefined; turn++) {
    messages++
    bytes += msg.length
    msg = (turn % 2 === 0 ? responder : initiator).receive(msg)
  }
  return { messages, bytes }
}

for (const [n, d] of [
  [10_000, 10],
  [100_000, 1],
  [100_000, 1_000],
] as const) {
  describe(`N = ${n}, d = ${d}`, () => {
    const [a, b] = pair(n, d, n + d)
    const storeA = new RbsrStore(a)
    const storeB = new RbsrStore(b)
    const { messages, bytes } = reconcile(storeA, storeB)
    console.log(`N=${n} d=${d}: ${messages} messages (${Math.ceil(messages / 2)} round trips), ${bytes} bytes`)
    bench('reconcile (snapshots cached)', () => void reconcile(storeA, storeB))
    if (d === 1) bench('build a store from unsorted items', () => void new RbsrStore(a), { iterations: 5 })
  })
}
