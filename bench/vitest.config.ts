import { defineConfig } from 'vitest/config'

// Benchmarks that need a real network (WebRTC) run as plain vitest files (*.run.ts) inside the
// loopback-only namespace: `npm run bench:transport`. They print a table and are not tests.
export default defineConfig({
  test: { include: ['bench/**/*.run.ts'], pool: 'forks', testTimeout: 600_000, hookTimeout: 600_000 },
})
