/**
 * Writes src/wire/fixtures/vectors-int64.json (test-only):
 *
 *   npx tsx src/testing/make-int64-vectors.ts           write the fixture
 *   npx tsx src/testing/make-int64-vectors.ts --check   exit 1 if the fixture is not what it builds
 *
 * The vectors are deterministic (src/testing/int64-vectors.ts): rerunning changes nothing unless
 * the construction changed, and then the fixture test says which bytes differ.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { int64VectorsJson } from './int64-vectors.js'

const file = new URL('../wire/fixtures/vectors-int64.json', import.meta.url)
const text = int64VectorsJson()
if (process.argv.includes('--check')) {
  let current = ''
  try {
    current = readFileSync(file, 'utf8')
  } catch {
    // missing: not current
  }
  process.stdout.write(current === text ? 'vectors-int64.json is current\n' : 'vectors-int64.json differs from what src/testing/int64-vectors.ts builds\n')
  process.exit(current === text ? 0 : 1)
}
writeFileSync(file, text)
process.stdout.write(`wrote ${file.pathname}\n`)
