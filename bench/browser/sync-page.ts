import { expected, keyOf, valueOf, type Want } from './sync-data.js'
import { OursReplica, type OursConfig } from './sync-ours.js'
import { abs, Tracker, wire, type Replica, type Wire } from './sync-replica.js'
import { YjsReplica, type YjsConfig } from './sync-yjs.js'

// The sync bench page (bench/sync-browser.ts drives it): one replica per page, ours or Yjs, and
// the operations the driver times, on window.bench. Times are absolute (timeOrigin + now()), so
// that what one page starts and another sees is measured on one clock.

export type Config = ({ lib: 'ours' } & OursConfig) | ({ lib: 'yjs' } & YjsConfig)

let replica: Replica | undefined
const tracker = new Tracker(() => replica)
const mine = (): Replica => {
  if (replica === undefined) throw new Error('no replica in this page')
  return replica
}

function create(config: Config): Replica {
  if (replica !== undefined) throw new Error('this page already has a replica')
  replica = config.lib === 'ours' ? new OursReplica(config, tracker) : new YjsReplica(config, tracker)
  return replica
}

export interface Joined {
  /** Construction (abs ms). */
  t0: number
  /** ready() resolved (ours: restored and linked or alone; Yjs: y-indexeddb synced). */
  readyAt: number
  /** Every wanted key held (abs ms), and the wire counters then. */
  keysAt: number
  wire: Wire
}

/** Creates the replica; resolves once it is ready and holds `want` (if given). */
async function join(config: Config, want?: Want): Promise<Joined> {
  const t0 = abs()
  const r = create(config)
  const keys = want === undefined ? undefined : tracker.waitFor(expected(want))
  await r.ready()
  const readyAt = abs()
  const got = (await keys) ?? { at: readyAt, wire: wire() }
  return { t0, readyAt, keysAt: got.at, wire: got.wire }
}

export interface Boot {
  /** Navigation start → construction, construction → ready(), construction → all `keys` keys (ms). */
  loadMs: number
  readyMs: number
  keysMs: number
  /** Keys held when ready() resolved, and when boot() resolved. */
  sizeAtReady: number
  size: number
}

/** After a reload: the replica the page made on load (?auto=…), and its timings. */
let booted: Promise<Boot> | undefined
const auto = new URLSearchParams(location.search).get('auto')
if (auto !== null) {
  const { config, keys } = JSON.parse(auto) as { config: Config; keys: number }
  const loadMs = performance.now()
  const t0 = abs()
  const r = create(config)
  const full = new Promise<number>((resolve) => {
    if (r.size() >= keys) resolve(abs())
    tracker.listen(() => r.size() >= keys && resolve(abs()))
  })
  let sizeAtReady = Number.NaN
  const ready = r.ready().then(() => {
    sizeAtReady = r.size()
    return abs()
  })
  // What is not there after a minute is reported as NaN, with the keys held then.
  const late = new Promise<number>((resolve) => setTimeout(() => resolve(Number.NaN), 60_000))
  booted = Promise.all([Promise.race([ready, late]), Promise.race([full, late])]).then(([readyAt, keysAt]) => ({
    loadMs,
    readyMs: readyAt - t0,
    keysMs: keysAt - t0,
    sizeAtReady,
    size: r.size(),
  }))
}

const bench = {
  join,
  boot: (): Promise<Boot> => booted ?? Promise.reject(new Error('no ?auto= start in this page')),
  id: async (): Promise<string> => {
    await mine().ready()
    return mine().id
  },
  peers: (): string[] => mine().peers(),
  size: (): number => mine().size(),
  wire,
  now: abs,
  errors: (): Record<string, number> => (replica instanceof OursReplica ? replica.errors : {}),
  /** Ours: the mesh's and the table's counters. */
  stats: (): Record<string, number> => (replica instanceof OursReplica ? { ...replica.socket.stats, ...replica.socket.syncStats } : {}),
  /** Writes keys [from, to) at `version`, in one setMany. */
  fill: (from: number, to: number, version: number): Promise<void> =>
    mine().setMany(Array.from({ length: to - from }, (_, j) => [keyOf(from + j), valueOf(from + j, version)])),
  /** Writes the listed keys at `version`, in one setMany. */
  change: (indices: number[], version: number): Promise<void> => mine().setMany(indices.map((i) => [keyOf(i), valueOf(i, version)])),
  /** Resolves when the page holds `want` (or just the `only` indices of it). */
  waitFor: (want: Want, only?: number[]): Promise<{ at: number; wire: Wire }> => tracker.waitFor(expected(want, only)),
  /** One set; returns the time of the call. */
  setTimed: async (key: string, value: string): Promise<number> => {
    const t0 = abs()
    await mine().set(key, value)
    return t0
  },
  /** When `key` got `value` in this page (waits for it). */
  arrival: async (key: string, value: string): Promise<number> => (await tracker.waitFor(new Map([[key, value]]))).at,
  block: (ids: string[]): void => (replica as OursReplica).net.block(ids),
  unblock: (): void => (replica as OursReplica).net.unblock(),
  viaServer: (ids: string[]): void => (replica as OursReplica).net.viaServer(ids),
  /** Ours: a link to `id` now; resolves with the error code if it failed. */
  connect: (id: string): Promise<string | undefined> =>
    Promise.race([
      (replica as OursReplica).socket.connect(id).then(
        () => undefined,
        (err: unknown) => (err as { code?: string }).code ?? String(err),
      ),
      new Promise<string>((resolve) => setTimeout(() => resolve('still connecting after 20 s'), 20_000)),
    ]),
  /** How many of `want`'s keys (or of its `only` indices) the page holds with the wanted value. */
  matching: (want: Want, only?: number[]): number => [...expected(want, only)].filter(([key, value]) => mine().get(key) === value).length,
  moveTo: (signaling: string): void => (replica as YjsReplica).moveTo(signaling),
  /** Yjs: bytes of the document's state as one update. */
  yjsStateBytes: (): number => (replica as YjsReplica).stateBytes(),
  close: async (): Promise<void> => {
    await replica?.close()
    replica = undefined
  },
}
export type SyncBench = typeof bench
;(window as unknown as { bench: SyncBench }).bench = bench
document.querySelector('[data-testid="state"]')!.textContent = 'ready'
