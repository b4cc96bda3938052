import { networkInterfaces } from 'node:os'
import { createRequire } from 'node:module'
import type { WrtcImplementation } from '../transport/webrtc/webrtc-transport.js'

/**
 * The Node WebRTC polyfill for tests, handed out only inside a loopback-only network namespace:
 * WebRTC test traffic must never leave 127.0.0.1. `npm test` provides the namespace; running a
 * WebRTC test file directly with `npx vitest` on a normal network fails here, loudly, instead of
 * gathering candidates on real interfaces.
 */
export function loopbackOnlyWrtc(): WrtcImplementation {
  const outside = Object.entries(networkInterfaces()).flatMap(([name, addrs]) =>
    (addrs ?? []).filter((a) => !a.internal).map((a) => `${name} ${a.address}`),
  )
  if (outside.length > 0) {
    throw new Error(
      `refusing to open WebRTC connections with non-loopback interfaces up (${outside.join(', ')}). ` +
        'Run the tests with `npm test` (it isolates itself), or inside `unshare -n sh -c "ip link set lo up && …"`.',
    )
  }
  const require = createRequire(import.meta.url)
  return require('@roamhq/wrtc') as WrtcImplementation
}
