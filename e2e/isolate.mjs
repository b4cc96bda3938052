#!/usr/bin/env node
// Runs a command inside a network namespace that has only loopback, so no WebRTC packet can
// leave 127.0.0.1:  node e2e/isolate.mjs <command> [args…]
// As root it uses `unshare -n`, otherwise `unshare -rn` (an unprivileged user namespace). When
// neither works the command runs anyway with a warning, except under CI=true (then it fails).
// Inside, P2P_TODAY_ISOLATED=1 is set; `import { ensureIsolated }` re-runs the current script.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const quote = (a) => `'${String(a).replace(/'/g, `'\\''`)}'`

/** Runs argv isolated and exits with its status; returns only if isolation is impossible (outside CI). */
export function runIsolated(argv) {
  if (process.env.P2P_TODAY_ISOLATED === '1' || process.env.P2P_TODAY_NO_ISOLATION === '1') return
  const inner = `ip link set lo up && exec ${argv.map(quote).join(' ')}`
  const env = { ...process.env, P2P_TODAY_ISOLATED: '1' }
  for (const flags of process.getuid?.() === 0 ? [['-n'], ['-rn']] : [['-rn']]) {
    const probe = spawnSync('unshare', [...flags, 'sh', '-c', 'ip link set lo up'], { stdio: 'ignore' })
    if (probe.status !== 0) continue
    const run = spawnSync('unshare', [...flags, 'sh', '-c', inner], { stdio: 'inherit', env })
    process.exit(run.status ?? 1)
  }
  if (process.env.CI === 'true') {
    console.error('cannot create a loopback-only network namespace (unshare), and CI=true requires one')
    process.exit(1)
  }
  console.warn('WARNING: no loopback-only network namespace (unshare failed); WebRTC may use other interfaces')
}

/** Re-runs the calling Node script inside the namespace (no-op when already inside). */
export function ensureIsolated() {
  runIsolated([process.execPath, ...process.argv.slice(1)])
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2)
  if (argv.length === 0) {
    console.error('usage: node e2e/isolate.mjs <command> [args…]')
    process.exit(2)
  }
  runIsolated(argv)
  const run = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit' })
  process.exit(run.status ?? 1)
}
