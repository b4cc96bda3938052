import * as pair from './mesh-pair.js'
import * as oursFlood from './mesh-flood-ours.js'
import * as rawFlood from './mesh-flood-raw.js'

// The mesh bench page: every function the driver (bench/mesh-browser.ts) calls, on window.bench.
// Each role (resident, dialler, ours network, raw network) gets a page of its own.
const bench = { ...pair, ...oursFlood, ...rawFlood }
export type MeshBench = typeof bench
;(window as unknown as { bench: MeshBench }).bench = bench
document.querySelector('[data-testid="state"]')!.textContent = 'ready'
