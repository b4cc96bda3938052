import { execFileSync } from 'node:child_process'
import { defineConfig } from '@playwright/test'

// Free ports are chosen once, in the main process, and handed to workers through the
// environment (workers re-evaluate this file but inherit the variables).
function freePort(): string {
  return execFileSync(process.execPath, [
    '-e',
    "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})",
  ])
    .toString()
    .trim()
}
process.env.P2P_DEMO_PORT ??= freePort()
process.env.P2P_SIGNAL_PORT ??= freePort()
process.env.P2P_CONSUMER_PORT ??= freePort()
const demoPort = process.env.P2P_DEMO_PORT
const signalPort = process.env.P2P_SIGNAL_PORT
const consumerPort = process.env.P2P_CONSUMER_PORT
// Read by the specs (e2e/env.ts).
process.env.P2P_SIGNAL_URL = `http://127.0.0.1:${signalPort}`
process.env.P2P_CONSUMER_URL = `http://127.0.0.1:${consumerPort}`

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  outputDir: 'e2e/.output/results',
  workers: 1,
  fullyParallel: false,
  forbidOnly: process.env.CI === 'true',
  retries: 0,
  timeout: 60_000,
  reporter: [['list'], ['json']],
  use: {
    baseURL: `http://127.0.0.1:${demoPort}`,
    // Granting camera/microphone makes Chromium offer 127.0.0.1 host candidates under
    // --allow-loopback-in-peer-connection; see README "Tests and the loopback rule".
    permissions: ['camera', 'microphone'],
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--allow-loopback-in-peer-connection',
      ],
    },
  },
  webServer: [
    {
      // Our signaling server, as `npm run signal` runs it.
      command: `npx tsx signaling/cli.ts --port ${signalPort}`,
      port: Number(signalPort),
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    {
      // A plain Vite app (no config, no polyfills) that imports the *built* package.
      command:
        `npm run build && npx vite build e2e/consumer-app --outDir ../.output/consumer-dist --emptyOutDir && ` +
        `npx vite preview e2e/consumer-app --outDir ../.output/consumer-dist --host 127.0.0.1 --port ${consumerPort} --strictPort`,
      url: `http://127.0.0.1:${consumerPort}/`,
      reuseExistingServer: false,
      timeout: 180_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    {
      command: `npm run build:demo && npx vite preview --mode demo --host 127.0.0.1 --port ${demoPort} --strictPort`,
      url: `http://127.0.0.1:${demoPort}/`,
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
  ],
})
