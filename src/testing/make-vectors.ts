/**
 * Writes the project's own wire fixtures (test-only), each built from the specification:
 *
 *   npx tsx src/testing/make-vectors.ts           write src/wire/fixtures/vectors-signed-1.json, vectors-int64.json, vectors-sync.json
 *   npx tsx src/testing/make-vectors.ts --check   exit 1 if a fixture is not what its builder makes
 *
 * The vectors are deterministic (src/testing/signed-vectors.ts, int64-vectors.ts, sync-vectors.ts): rerunning
 * changes nothing unless a construction changed, and then the fixture tests say which bytes differ.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { int64VectorsJson } from './int64-vectors.js'
import { signedVectorsJson } from './signed-vectors.js'
import { syncVectorsJson } from './sync-vectors.js'

const FIXTURES: [name: string, build: () => string][] = [
  ['vectors-signed-1.json', signedVectorsJson],
  ['vectors-int64.json', int64VectorsJson],
  ['vectors-sync.json', syncVectorsJson],
]

let stale = 0
for (const [name, build] of FIXTURES) {
  const file = new URL(`../wire/fixtures/${name}`, import.meta.url)
  const text = build()
  if (!process.argv.includes('--check')) {
    writeFileSync(file, text)
    process.stdout.write(`wrote ${file.pathname}\n`)
    continue
  }
  let current = ''
  try {
    current = readFileSync(file, 'utf8')
  } catch {
    // missing: not current
  }
  if (current !== text) stale++
  process.stdout.write(current === text ? `${name} is current\n` : `${name} differs from what its builder makes\n`)
}
process.exit(stale === 0 ? 0 : 1)
