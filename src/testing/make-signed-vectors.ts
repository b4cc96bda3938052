/**
 * Writes src/wire/fixtures/vectors-signed-1.json (test-only):
 *
 *   npx tsx src/testing/make-signed-vectors.ts           write the fixture
 *   npx tsx src/testing/make-signed-vectors.ts --check   exit 1 if the fixture is not what it builds
 *
 * The vectors are deterministic (src/testing/signed-vectors.ts): rerunning changes nothing unless
 * the construction changed, and then the fixture test says which bytes differ.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { signedVectorsJson } from './signed-vectors.js'

const file = new URL('../wire/fixtures/vectors-signed-1.json', import.meta.url)
const text = signedVectorsJson()
if (process.argv.includes('--check')) {
  let current = ''
  try {
    current = readFileSync(file, 'utf8')
  } catch {
    // missing: not current
  }
  process.stdout.write(current === text ? 'vectors-signed-1.json is current\n' : 'vectors-signed-1.json differs from what src/testing/signed-vectors.ts builds\n')
  process.exit(current === text ? 0 : 1)
}
writeFileSync(file, text)
process.stdout.write(`wrote ${file.pathname}\n`)
