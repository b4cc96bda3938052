/**
 * `npm run fuzz`: the long fuzz run (test-only; see src/testing/fuzz.ts).
 *
 *   npm run fuzz                                   1 000 000 inputs over every target, a random seed
 *   npm run fuzz -- --inputs 200000 --seed 42      a given size and seed
 *   npm run fuzz -- --target frame --seed 42 --from 1234 --inputs 1    replay one decoder input
 *   npm run fuzz -- --target mesh-node --seed 42 --inputs 1235         replay the live node up to 1234
 *   npm run fuzz -- --target mesh-node-signed --seed 42 --inputs 1235  the same, signed mode
 *
 * `--inputs` is the total, shared by the targets in proportion to SHARE (the live nodes cost
 * more per input, the signed one most: it signs and verifies). Prints per target: inputs,
 * crashes, hangs, slowest input, elapsed, outcome mix; then unhandled rejections and a total
 * line. Exit status 1 on any crash, hang or rejection.
 */
import { randomInt } from 'node:crypto'
import { wireCorpus } from './fuzz-corpus.js'
import { meshNodeHarness } from './fuzz-mesh.js'
import { meshNodeSignedHarness } from './fuzz-mesh-signed.js'
import { runFuzz, type FuzzCorpus, type FuzzReport, type FuzzTarget } from './fuzz.js'
import { decoderTargets } from './fuzz-targets.js'
import { signedCorpus } from './fuzz-signed.js'

const SHARE: Record<string, number> = {
  frame: 0.16, codec: 0.16, 'codec-tight': 0.08, 'codec-stream': 0.08, 'frame-signed': 0.1, 'mesh-message': 0.2, 'mesh-node': 0.13, 'mesh-node-signed': 0.09,
}
/** Targets whose state carries from input to input: replayed from index 0. */
const LIVE: Record<string, typeof meshNodeHarness> = { 'mesh-node': meshNodeHarness, 'mesh-node-signed': meshNodeSignedHarness }

function parseArgs(argv: string[]): { inputs: number; seed: number; targets: string[]; from: number; hangMs: number } {
  const opts = { inputs: 1_000_000, seed: randomInt(2 ** 32 - 1), targets: Object.keys(SHARE), from: 0, hangMs: 250 }
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]]
    const num = (): number => {
      const n = Number(value)
      if (value === undefined || !Number.isSafeInteger(n) || n < 0) usage(`${flag} needs a whole number`)
      i++
      return n
    }
    if (flag === '--inputs') opts.inputs = num()
    else if (flag === '--seed') opts.seed = num() >>> 0
    else if (flag === '--from') opts.from = num()
    else if (flag === '--hang-ms') opts.hangMs = num()
    else if (flag === '--target') {
      opts.targets = (value ?? '').split(',').filter((t) => t !== '')
      if (opts.targets.length === 0 || opts.targets.some((t) => SHARE[t] === undefined)) usage(`--target takes some of ${Object.keys(SHARE).join(',')}`)
      i++
    } else usage(`unknown argument ${flag}`)
  }
  return opts
}

function usage(problem: string): never {
  process.stderr.write(`fuzz: ${problem}\nusage: npm run fuzz -- [--inputs N] [--seed S] [--target a,b] [--from I] [--hang-ms MS]\n`)
  process.exit(2)
}

const out = (line: string): boolean => process.stdout.write(`${line}\n`)
const num = (n: number): string => n.toLocaleString('en-US')

function printReport(r: FuzzReport): void {
  const slow = r.slowest === undefined ? '-' : `${r.slowest.ms.toFixed(1)} ms (#${r.slowest.index}, ${r.slowest.kind})`
  out(`${r.target.padEnd(16)} ${num(r.inputs).padStart(9)} inputs  crashes ${r.crashes}  hangs ${r.hangs}  rejections ${r.rejections}  slowest ${slow}  ${(r.elapsedMs / 1000).toFixed(1)} s`)
  const top = [...r.outcomes].sort((x, y) => y[1] - x[1])
  out(`  outcomes: ${top.map(([k, v]) => `${k} ${((100 * v) / r.inputs).toFixed(1)}%`).join(', ')}`)
  for (const f of r.crashFindings) {
    out(`  CRASH seed=${f.seed} index=${f.index} kind=${f.kind}: ${f.error ?? ''}`)
    out(`    replay: npm run fuzz -- --target ${f.target} --seed ${f.seed} ${LIVE[f.target] !== undefined ? `--inputs ${f.index + 1}` : `--from ${f.index} --inputs 1`}`)
  }
  for (const f of r.hangFindings) out(`  HANG seed=${f.seed} index=${f.index} kind=${f.kind}: ${f.ms.toFixed(1)} ms`)
  for (const s of r.rejectionSamples) out(`  REJECTION ${s}`)
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2))
  const shareTotal = opts.targets.reduce((s, t) => s + SHARE[t]!, 0)
  out(`p2p-today fuzz: seed ${opts.seed}, ${num(opts.inputs)} inputs, hang bound ${opts.hangMs} ms, targets ${opts.targets.join(', ')}`)
  const started = performance.now()
  const reports: FuzzReport[] = []
  let left = opts.inputs
  for (const [i, name] of opts.targets.entries()) {
    const count = i === opts.targets.length - 1 ? left : Math.round((opts.inputs * SHARE[name]!) / shareTotal)
    left -= count
    let target: FuzzTarget
    let corpus: FuzzCorpus
    let close = async (): Promise<void> => {}
    const live = LIVE[name]
    if (live !== undefined) {
      const harness = await live(opts.seed)
      ;({ target, corpus } = harness)
      close = () => harness.close()
    } else {
      target = decoderTargets().find((t) => t.name === name)!
      corpus = name === 'frame-signed' ? signedCorpus() : wireCorpus()
    }
    const progress = (index: number): void => void process.stderr.write(`\r${name}: input ${num(index)} `)
    const report = await runFuzz(target, corpus, { seed: opts.seed, count, from: opts.from, hangMs: opts.hangMs, onProgress: progress })
    await close()
    process.stderr.write('\r')
    printReport(report)
    reports.push(report)
  }
  const sum = (f: (r: FuzzReport) => number): number => reports.reduce((s, r) => s + f(r), 0)
  const slowest = reports.map((r) => r.slowest).reduce((x, y) => (y !== undefined && (x === undefined || y.ms > x.ms) ? y : x), undefined)
  out(
    `total: ${num(sum((r) => r.inputs))} inputs, ${sum((r) => r.crashes)} crashes, ${sum((r) => r.hangs)} hangs, ` +
      `${sum((r) => r.rejections)} unhandled rejections, slowest input ${slowest === undefined ? '-' : `${slowest.ms.toFixed(1)} ms (${slowest.target} #${slowest.index}, ${slowest.kind})`}, ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s`,
  )
  process.exit(sum((r) => r.crashes + r.hangs + r.rejections) === 0 ? 0 : 1)
}

await main()
