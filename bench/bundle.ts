/**
 * `npm run bench:bundle`: what an app pays in bytes for each entry of the library.
 *
 * For each entry below, a tiny consumer module that imports it and uses it (so tree-shaking
 * keeps what a real app keeps) is built by Vite for the browser (app mode, es2022, minified by
 * Vite's default minifier, one ES chunk, source map on, nothing written to disk). Reported:
 * - the output's bytes (min) and its gzip (node:zlib, level 9): measured;
 * - a breakdown by origin: our own code per layer (`src/<layer>`) and each node_modules package.
 *   Every byte of the minified output is attributed, through the output's source map, to the
 *   module its mapping segment comes from (the way source-map-explorer does); bytes no segment
 *   covers (newlines, glue) are `(unmapped)`. A group's gzip is *estimated*: the gzip of its
 *   bytes concatenated in output order. Groups share no dictionary that way, so their gzips add
 *   up to more than the whole's;
 * - for the first entry, trim options: the same build with one dependency swapped by a Vite
 *   plugin (library sources untouched), and what each saves, measured.
 *
 * Deterministic (no hashes in names, no network); all builds together take a few seconds.
 * `-- --at <rev>` measures src/ as committed at <rev> (a `git archive` copy, with this tree's
 * node_modules) instead of the working tree.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build, rolldownVersion, version as viteVersion, type Plugin, type Rolldown } from 'vite'

const repo = resolve(import.meta.dirname, '..')
const atIndex = process.argv.indexOf('--at')
const at = atIndex >= 0 ? process.argv[atIndex + 1] : undefined
if (atIndex >= 0 && at === undefined) throw new Error('--at needs a git revision')
/** All builds together take a few seconds: a stuck one ends the run. */
const TIME_LIMIT_MS = 300_000
/** Where the measured src/ lives: the repository, or a snapshot of it at `--at` (set in main). */
let root = repo

interface Entry {
  /** What the row is called. */
  name: string
  /** The consumer module: `<repo>` stands for the repository's absolute path. */
  consumer: string
}

/** One line per entry: a new model adds its consumer here. */
const ENTRIES: Entry[] = [
  {
    name: 'MeshSocket',
    consumer: `import { MeshSocket } from '<repo>/src/index.ts'
const mesh = new MeshSocket({ signaling: 'https://signal.example', subnet: 'demo' })
mesh.on('message', (m) => console.log(m.sender, m.payload))
void mesh.send('hello')`,
  },
  {
    name: 'wire codec (p2p-today/wire)',
    consumer: `import { encodeFrame, decodeFrame } from '<repo>/src/wire/index.ts'
const frame = encodeFrame({ type: 0x12, sender: 'x', time: 0, payload: [0, 'hello'] })
console.log(decodeFrame(frame))`,
  },
]

interface TrimOption {
  name: string
  /** Module specifier (as the library imports it) → source of the module that replaces it. */
  replace: Record<string, string>
}

const pathOf = (specifier: string): string => JSON.stringify(fileURLToPath(import.meta.resolve(specifier)))

/** Built for ENTRIES[0] only: each is what that swap would save, the library left as it is. */
const TRIM_OPTIONS: TrimOption[] = [
  {
    name: "pako's prebuilt sub-entries (pako/browser/deflate + pako/browser/inflate)",
    replace: { pako: `export { deflate, gzip } from ${pathOf('pako/browser/deflate')}\nexport { Inflate } from ${pathOf('pako/browser/inflate')}` },
  },
  {
    name: 'no pako at all (bound for native CompressionStream, which is async)',
    replace: { pako: 'export function deflate() { throw 0 }\nexport const gzip = deflate\nexport class Inflate {}' },
  },
  {
    name: 'no simple-peer at all (bound for a wrapper of our own on RTCPeerConnection)',
    replace: { 'simple-peer/simplepeer.min.js': 'export default class SimplePeer {}' },
  },
  {
    name: 'no @noble/ed25519 (bound for loading the noble fallback lazily)',
    replace: {
      '@noble/ed25519': `export const hashes = {}
export const Point = { CURVE: () => ({ n: 1n }), fromBytes() { throw 0 }, BASE: {} }
export function keygen() { throw 0 }
export function sign() { throw 0 }
export function getPublicKey() { throw 0 }`,
    },
  },
]

/** Builds one consumer; returns the output chunks. */
async function bundle(dir: string, name: string, consumer: string, replace: Record<string, string> = {}): Promise<Rolldown.OutputChunk[]> {
  const input = join(dir, `${name}.ts`)
  writeFileSync(input, consumer.replaceAll('<repo>', root))
  const swap: Plugin = {
    name: 'bench-bundle-swap',
    enforce: 'pre',
    resolveId: (id) => (id in replace ? `\0swap:${id}` : null),
    load: (id) => (id.startsWith('\0swap:') ? replace[id.slice('\0swap:'.length)] : null),
  }
  const out = await build({
    configFile: false,
    envFile: false,
    root: dir,
    cacheDir: join(dir, '.vite'),
    logLevel: 'error',
    plugins: [swap],
    build: {
      write: false,
      outDir: join(dir, 'out'),
      target: 'es2022',
      minify: true,
      sourcemap: true,
      modulePreload: false,
      reportCompressedSize: false,
      rolldownOptions: { input, output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: '[name].js' } },
    },
  })
  if (!('output' in out) && !Array.isArray(out)) throw new Error('vite build returned a watcher')
  const outputs = Array.isArray(out) ? out : [out]
  return outputs.flatMap((o) => o.output.filter((c): c is Rolldown.OutputChunk => c.type === 'chunk'))
}

/** A source of the output's source map, as shown: a path from `root`, or a label. */
function labelOf(absolute: string): string {
  const path = relative(root, absolute).split(sep).join('/')
  const nm = path.lastIndexOf('node_modules/')
  if (nm >= 0) return path.slice(nm)
  return path.startsWith('src/') ? path : '(consumer, stubs, runtime)'
}

/** The group of a label: `src/<layer>`, a package name, or the label itself. */
function groupOf(label: string): string {
  if (label.startsWith('node_modules/')) {
    const [scope = '', pkg = ''] = label.slice('node_modules/'.length).split('/')
    return scope.startsWith('@') ? `${scope}/${pkg}` : scope
  }
  if (label.startsWith('src/')) {
    const parts = label.split('/')
    return parts.length > 2 ? `src/${parts[1]}` : 'src/*.ts'
  }
  return label
}

const B64 = new Map([...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].map((c, i) => [c, i]))

/** One source-map segment as base64 VLQ → its fields (relative values). */
function vlq(segment: string): number[] {
  const fields: number[] = []
  let value = 0
  let shift = 0
  for (const c of segment) {
    const digit = B64.get(c)
    if (digit === undefined) throw new Error(`bad source map character ${c}`)
    value += (digit & 31) << shift
    if (digit & 32) {
      shift += 5
      continue
    }
    fields.push(value & 1 ? -(value >>> 1) : value >>> 1)
    value = 0
    shift = 0
  }
  return fields
}

/**
 * Adds a chunk's code to `into`, split by source: each byte goes to the source of the mapping
 * segment it falls in, in output order; bytes before a line's first segment, in a segment with
 * no source, and newlines go to '(unmapped)'.
 */
function attribute(chunk: Rolldown.OutputChunk, outDir: string, into: Map<string, string[]>): void {
  const map = chunk.map
  if (map === null) throw new Error(`${chunk.fileName} has no source map`)
  const base = join(outDir, dirname(chunk.fileName))
  const labels = map.sources.map((s) => labelOf(resolve(base, s)))
  const add = (label: string, text: string): void => {
    if (text === '') return
    const texts = into.get(label)
    if (texts === undefined) into.set(label, [text])
    else texts.push(text)
  }
  const lines = chunk.code.split('\n')
  const mappings = map.mappings.split(';')
  let source = 0
  lines.forEach((line, i) => {
    let col = 0
    let from = 0
    let label = '(unmapped)'
    for (const segment of (mappings[i] ?? '').split(',')) {
      if (segment === '') continue
      const fields = vlq(segment)
      col += fields[0] ?? 0
      add(label, line.slice(from, col))
      from = col
      if (fields.length >= 4) {
        source += fields[1] ?? 0
        label = labels[source] ?? '(unmapped)'
      } else label = '(unmapped)'
    }
    add(label, line.slice(from))
    if (i < lines.length - 1) add('(unmapped)', '\n')
  })
}

interface Size {
  min: number
  gzip: number
}

interface Measured extends Size {
  /** By group (`src/<layer>`, package, label), and by source file. */
  groups: Map<string, Size>
  files: Map<string, Size>
  /** All of our code (src/), gzipped as one text. */
  own: Size
}

const gz = (text: string): number => gzipSync(text, { level: 9 }).length
const bytes = (text: string): number => Buffer.byteLength(text)
const size = (text: string): Size => ({ min: bytes(text), gzip: gz(text) })

function measure(chunks: Rolldown.OutputChunk[], outDir: string): Measured {
  const bySource = new Map<string, string[]>()
  for (const chunk of chunks) attribute(chunk, outDir, bySource)
  const byGroup = new Map<string, string[]>()
  for (const [label, texts] of bySource) byGroup.set(groupOf(label), [...(byGroup.get(groupOf(label)) ?? []), ...texts])
  const groups = new Map([...byGroup].map(([g, t]) => [g, size(t.join(''))] as const))
  const attributed = [...groups.values()].reduce((sum, g) => sum + g.min, 0)
  const total = chunks.reduce((sum, c) => ({ min: sum.min + bytes(c.code), gzip: sum.gzip + gz(c.code) }), { min: 0, gzip: 0 })
  if (attributed !== total.min) throw new Error(`attributed ${attributed} bytes of ${total.min}`)
  const files = new Map([...bySource].filter(([l]) => l.startsWith('src/')).map(([l, t]) => [l, size(t.join(''))] as const))
  const own = size([...byGroup].filter(([g]) => g.startsWith('src/')).flatMap(([, t]) => t).join(''))
  return { ...total, groups, files, own }
}

const kb = (n: number): string => (n / 1000).toFixed(1)

function versionOf(pkg: string): string {
  try {
    return ` ${(JSON.parse(readFileSync(join(repo, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version}`
  } catch {
    return ''
  }
}

const LAYERS = ['src/util', 'src/wire', 'src/transport', 'src/mesh', 'src/sync', 'src/chord', 'src/storage', 'src/*.ts']
const LARGEST_FILES = 8

function table(entry: string, m: Measured): string {
  const rank = (g: string): number => (g.startsWith('src/') ? LAYERS.indexOf(g) : g.startsWith('(') ? 200 : 100)
  const rows = [...m.groups].sort(([a, x], [b, y]) => rank(a) - rank(b) || y.min - x.min)
  const pct = (n: number): string => `${((100 * n) / m.min).toFixed(1)}%`
  const largest = [...m.files].sort(([, a], [, b]) => b.min - a.min).slice(0, LARGEST_FILES)
  return [
    `**${entry}**: ${kb(m.min)} KB min, ${kb(m.gzip)} KB gzip (measured).`,
    '',
    '| from | min KB | share | gzip KB (est.) |',
    '|---|---:|---:|---:|',
    ...rows.map(([g, v]) => `| ${g.startsWith('src/') || g.startsWith('(') ? g : `${g}${versionOf(g)}`} | ${kb(v.min)} | ${pct(v.min)} | ${kb(v.gzip)} |`),
    `| **our code (src/, all layers)** | **${kb(m.own.min)}** | **${pct(m.own.min)}** | **${kb(m.own.gzip)}** |`,
    `| **whole bundle** | **${kb(m.min)}** | 100% | **${kb(m.gzip)}** (measured) |`,
    '',
    `Our largest files in it: ${largest.map(([f, v]) => `${f.slice('src/'.length)} ${kb(v.min)} (${kb(v.gzip)} gzip)`).join(', ')}.`,
  ].join('\n')
}

/**
 * A browserify bundle (simple-peer's simplepeer.min.js) split at its module boundaries, each
 * module named by the package that requires it (relative requires stay in the requirer's
 * package; the module nothing requires is `entry`), in the rows of FOLD. Sizes are the file's
 * own bytes.
 */
function browserifyModules(file: string, entry: string): Map<string, Size> {
  const code = readFileSync(file, 'utf8')
  // Modules are `<n>:[function(...){...},{<require name>:<n>, ...}]`; a standalone bundle's entry is `"/"`.
  const starts = [...code.matchAll(/[{,](\d+|"\/"):\[function\(/g)].map((m) => ({ at: m.index + 1, id: m[1]!.replaceAll('"', '') }))
  const modules = new Map<string, { text: string; deps: Map<string, string> }>()
  starts.forEach(({ at, id }, i) => {
    const text = code.slice(at, starts[i + 1]?.at ?? code.length)
    const map = [...text.matchAll(/\},\{([^{}]*)\}\]/g)].at(-1)?.[1] ?? ''
    const deps = new Map([...map.matchAll(/"?([^",:]+)"?:(\d+)/g)].map((d) => [d[1]!, d[2]!] as const))
    modules.set(id, { text, deps })
  })
  const required = new Set([...modules.values()].flatMap((m) => [...m.deps.values()]))
  const names = new Map<string, string>([...modules.keys()].filter((id) => !required.has(id)).map((id) => [id, entry]))
  for (const queue = [...names.keys()]; queue.length > 0; ) {
    const id = queue.shift()!
    for (const [name, dep] of modules.get(id)?.deps ?? []) {
      if (names.has(dep)) continue
      names.set(dep, name.startsWith('.') ? names.get(id)! : name.replace(/^_|\/$/g, ''))
      queue.push(dep)
    }
  }
  const byName = new Map<string, string[]>()
  for (const [id, m] of modules) byName.set(names.get(id) ?? '?', [...(byName.get(names.get(id) ?? '?') ?? []), m.text])
  byName.set('(UMD wrapper, browserify prelude)', [code.slice(0, starts[0]?.at ?? 0)])
  const byRow = new Map<string, string[][]>()
  for (const [name, texts] of [...byName].sort(([, a], [, b]) => bytes(b.join('')) - bytes(a.join('')))) {
    const row = FOLD.find((members) => members.includes(name))?.join(' + ') ?? name
    byRow.set(row, [...(byRow.get(row) ?? []), texts])
  }
  return new Map([...byRow].map(([n, t]) => [n, size(t.flat().join(''))] as const).sort(([, a], [, b]) => b.min - a.min))
}

/** Rows of the simple-peer table: a browser port of a Node module with the packages it alone uses. */
const FOLD = [
  ['readable-stream', 'string_decoder', 'util-deprecate', 'inherits', 'util'],
  ['buffer', 'base64-js', 'ieee754', 'safe-buffer'],
  ['debug', 'ms'],
  ['randombytes', 'err-code', 'get-browser-rtc', 'queue-microtask'],
]

function machineLine(): string {
  const cpu = /Model name:\s*(.+)/.exec(execFileSync('lscpu', { encoding: 'utf8' }))?.[1] ?? cpus()[0]?.model ?? '?'
  const git = (...args: string[]): string => {
    try {
      return execFileSync('git', args, { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    } catch {
      return '?'
    }
  }
  const dirty = at !== undefined || git('status', '--porcelain', 'src') === '' ? '' : ' + uncommitted src/ changes'
  return `${new Date().toISOString().slice(0, 10)} · ${cpu} · Node ${process.version} · Vite ${viteVersion} (Rolldown ${rolldownVersion}) · src/ at ${git('rev-parse', '--short', at ?? 'HEAD')}${dirty}`
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'p2p-today-bench-bundle-'))
  const started = Date.now()
  const limit = setTimeout(() => {
    console.error(`bench:bundle: over ${TIME_LIMIT_MS / 1000} s, giving up`)
    rmSync(dir, { recursive: true, force: true })
    process.exit(1)
  }, TIME_LIMIT_MS)
  try {
    if (at !== undefined) {
      root = join(dir, 'snapshot')
      mkdirSync(root)
      execFileSync('sh', ['-c', 'git -C "$0" archive "$1" src tsconfig.json package.json | tar -x -C "$2"', repo, at, root])
      symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'))
    }
    console.log(`${machineLine()}\n`)
    let first: Measured | undefined
    for (const [i, entry] of ENTRIES.entries()) {
      const m = measure(await bundle(dir, `entry${i}`, entry.consumer), join(dir, 'out'))
      first ??= m
      console.log(`${table(entry.name, m)}\n`)
      if (i === 0 && m.groups.has('simple-peer')) {
        const prebuilt = fileURLToPath(import.meta.resolve('simple-peer/simplepeer.min.js'))
        const inside = browserifyModules(prebuilt, 'simple-peer itself')
        console.log(`Inside simple-peer/simplepeer.min.js (${kb(bytes(readFileSync(prebuilt, 'utf8')))} KB; its browserify modules by package, file bytes):\n`)
        console.log('| module | KB | gzip KB (est.) |\n|---|---:|---:|')
        for (const [name, v] of inside) console.log(`| ${name} | ${kb(v.min)} | ${kb(v.gzip)} |`)
        console.log('')
      }
    }
    if (first !== undefined && TRIM_OPTIONS.length > 0) {
      console.log(`**Trim options for ${ENTRIES[0]?.name}** (each built; saved = baseline − option):\n`)
      console.log('| option | min KB | gzip KB | saves min KB | saves gzip KB |\n|---|---:|---:|---:|---:|')
      console.log(`| as shipped | ${kb(first.min)} | ${kb(first.gzip)} | | |`)
      for (const [i, option] of TRIM_OPTIONS.entries()) {
        const m = measure(await bundle(dir, `option${i}`, ENTRIES[0]!.consumer, option.replace), join(dir, 'out'))
        console.log(`| ${option.name} | ${kb(m.min)} | ${kb(m.gzip)} | ${kb(first.min - m.min)} | ${kb(first.gzip - m.gzip)} |`)
      }
    }
    console.log(`\n(${ENTRIES.length + TRIM_OPTIONS.length} builds in ${((Date.now() - started) / 1000).toFixed(1)} s; KB = 1000 bytes)`)
  } finally {
    clearTimeout(limit)
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
