#!/usr/bin/env node
// `npm test`: every test, unit (vitest) and end-to-end (Playwright), inside a network namespace
// that has only loopback, so no WebRTC packet can leave 127.0.0.1. Prints one plain line
// "N passed, N failed" counting both runners, and exits non-zero on any failure.
//
//   npm test                 isolate, then run both suites
//   npm test -- --unit       unit tests only      npm test -- --e2e   e2e only
//
// Isolation (e2e/isolate.mjs): as root `unshare -n`, otherwise `unshare -rn`. If neither works
// the suites run anyway with a warning, except under CI=true, where that fails.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureIsolated } from './isolate.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'e2e', '.output')
const args = process.argv.slice(2)
const only = args.includes('--unit') ? 'unit' : args.includes('--e2e') ? 'e2e' : 'all'
const passThrough = args.filter((a) => a !== '--unit' && a !== '--e2e')

ensureIsolated()

rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })

const npx = (cmd, extraEnv = {}) =>
  spawnSync('npx', cmd, { stdio: 'inherit', cwd: root, env: { ...process.env, ...extraEnv } }).status

const readJson = (file) => {
  try {
    return JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    return undefined
  }
}

let passed = 0
let failed = 0
let ok = true

if (only !== 'e2e') {
  const file = join(out, 'vitest.json')
  const status = npx(['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${file}`, ...passThrough])
  const report = readJson(file)
  if (report === undefined) {
    console.error('npm test: vitest wrote no report')
    ok = false
    failed++
  } else {
    passed += report.numPassedTests
    failed += report.numFailedTests + (report.numTotalTests === 0 ? 1 : 0)
    if (report.numPendingTests + report.numTodoTests > 0) console.warn(`npm test: ${report.numPendingTests} skipped unit tests`)
  }
  if (status !== 0) ok = false
}

if (only !== 'unit') {
  const file = join(out, 'playwright.json')
  const status = npx(['playwright', 'test', ...passThrough], { PLAYWRIGHT_JSON_OUTPUT_NAME: file })
  const report = readJson(file)
  if (report === undefined) {
    console.error('npm test: Playwright wrote no report')
    ok = false
    failed++
  } else {
    passed += report.stats.expected + report.stats.flaky
    failed += report.stats.unexpected + (report.stats.expected + report.stats.unexpected === 0 ? 1 : 0)
    if (report.stats.skipped > 0) console.warn(`npm test: ${report.stats.skipped} skipped e2e tests`)
  }
  if (status !== 0) ok = false
}

console.log(`${passed} passed, ${failed} failed`)
process.exit(ok && failed === 0 ? 0 : 1)
