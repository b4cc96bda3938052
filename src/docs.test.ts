/**
 * The docs are checked against the code:
 * - every option table row in README.md, docs/API.md and docs/LIMITS.md that names an option (or,
 *   in LIMITS' "—" rows, an exported constant) states the default the code has;
 * - the object literals API.md gives for defaults objects (`X_DEFAULTS` — `{ … }`) match them;
 * - every public export of the package entry (values at run time, types from `export type`) is
 *   named in docs/API.md.
 * Defaults come from the package entry where it exports them; other constants are found by name
 * in the source, so files can move.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEFAULT_OPTIONS as SIGNALING_SERVER_DEFAULTS } from '../signaling/options.js'
import * as entry from './index.js'
import { codeSpans, differs, documentedNames, exportedTypes, literalDiffers, parseLiteral, parseTables, quantities, show } from './testing/doc-check.js'

const ROOT = resolve(import.meta.dirname, '..')
const DOCS = ['README.md', 'docs/API.md', 'docs/LIMITS.md'] as const

// ---------------------------------------------------------------- what the code says

/** A default as the code has it, and where it comes from (for the failure message). */
interface Expected {
  value: unknown
  from: string
}
interface Scope {
  /** Where its constants live: searched first for a name the package entry does not export. */
  dir: string
  values: Record<string, Expected>
  /** Options with no default in code to compare (required, or the environment's): row skipped. */
  unchecked: string[]
  /** Option names each file must have a row for. */
  mustList: Partial<Record<(typeof DOCS)[number], string[]>>
}

function fromObject(obj: object, name: string, prefix = ''): Record<string, Expected> {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [prefix + k, { value: v, from: `${name}.${k}` }]))
}

/** The defaults objects the scopes are built from; the self-test passes altered copies. */
interface Defaults {
  MESH_DEFAULTS: Record<string, unknown>
  SEEN_CACHE_DEFAULTS: Record<string, unknown>
  FRAME_DEFAULTS: Record<string, unknown>
  WEBRTC_TRANSPORT_DEFAULTS: Record<string, unknown>
  WEBRTC_LINK_DEFAULTS: Record<string, unknown>
  MEMORY_LINK_DEFAULTS: Record<string, unknown>
  IDENTITY_STORE_DEFAULTS: Record<string, unknown>
  SIGNALING_SERVER_DEFAULTS: Record<string, unknown>
  DEFAULT_SIGNALING_TIMEOUT_MS: number
  /** The signaling client's reconnect backoff (its `reconnect` option's default). */
  DEFAULT_RECONNECT: Record<string, unknown>
  /** The default network's MeshSocket options (connection budget …), where the code has them apart. */
  WEBRTC_NETWORK_DEFAULTS: Record<string, unknown>
  /** The sync table's own options (SyncSocket). */
  SYNC_DEFAULTS: Record<string, unknown>
}

async function codeDefaults(): Promise<Defaults> {
  return {
    MESH_DEFAULTS: entry.MESH_DEFAULTS,
    SEEN_CACHE_DEFAULTS: (await findConstant('SEEN_CACHE_DEFAULTS', 'src/mesh')).value as Record<string, unknown>,
    FRAME_DEFAULTS: entry.FRAME_DEFAULTS,
    WEBRTC_TRANSPORT_DEFAULTS: entry.WEBRTC_TRANSPORT_DEFAULTS,
    WEBRTC_LINK_DEFAULTS: entry.WEBRTC_LINK_DEFAULTS,
    MEMORY_LINK_DEFAULTS: entry.MEMORY_LINK_DEFAULTS,
    IDENTITY_STORE_DEFAULTS: entry.IDENTITY_STORE_DEFAULTS,
    SIGNALING_SERVER_DEFAULTS: { ...SIGNALING_SERVER_DEFAULTS },
    DEFAULT_SIGNALING_TIMEOUT_MS: (await findConstant('DEFAULT_SIGNALING_TIMEOUT_MS', 'src/transport')).value as number,
    DEFAULT_RECONNECT: { ...entry.DEFAULT_RECONNECT },
    WEBRTC_NETWORK_DEFAULTS: { ...entry.WEBRTC_NETWORK_DEFAULTS },
    SYNC_DEFAULTS: { ...entry.SYNC_DEFAULTS },
  }
}

const compressionName = (m: number): string =>
  Object.entries(entry.COMPRESSION).find(([, v]) => v === m)?.[0] ?? String(m)

/** Section heading (`##`) → default column header → the defaults it states. */
function buildScopes(d: Defaults): { heading: RegExp; columns: Record<string, Scope> }[] {
  // maintainIntervalMs is not an option: LIMITS names it as a constant (`MESH_DEFAULTS.maintainIntervalMs`).
  const meshOptions = Object.fromEntries(Object.entries(d.MESH_DEFAULTS).filter(([k]) => k !== 'maintainIntervalMs'))
  const mesh: Scope = {
    dir: 'src/mesh',
    values: {
      ...fromObject(meshOptions, 'MESH_DEFAULTS'),
      seenCache: { value: d.SEEN_CACHE_DEFAULTS, from: 'SEEN_CACHE_DEFAULTS' },
      ...fromObject(d.SEEN_CACHE_DEFAULTS, 'SEEN_CACHE_DEFAULTS', 'seenCache.'),
      maxFrameBytes: { value: d.FRAME_DEFAULTS.maxFrameBytes, from: 'FRAME_DEFAULTS.maxFrameBytes' },
      dialTimeoutMs: { value: d.WEBRTC_TRANSPORT_DEFAULTS.dialTimeoutMs, from: 'WEBRTC_TRANSPORT_DEFAULTS.dialTimeoutMs' },
      compressions: { value: `[${entry.DEFAULT_COMPRESSIONS.map(compressionName).join(', ')}]`, from: 'DEFAULT_COMPRESSIONS' },
      ...fromObject(d.WEBRTC_NETWORK_DEFAULTS, 'WEBRTC_NETWORK_DEFAULTS'),
    },
    unchecked: ['signaling', 'iceServers', 'identity', 'wrtc', 'WebSocket'],
    mustList: {},
  }
  const meshKeys = Object.keys(mesh.values).filter((k) => !k.startsWith('seenCache.'))
  mesh.mustList = {
    'docs/API.md': [...meshKeys, ...mesh.unchecked],
    'docs/LIMITS.md': Object.keys(mesh.values).filter(
      (k) => typeof mesh.values[k]!.value === 'number' && k !== 'dialTimeoutMs',
    ),
  }
  const webrtc: Scope = {
    dir: 'src/transport',
    values: {
      ...fromObject(d.WEBRTC_TRANSPORT_DEFAULTS, 'WEBRTC_TRANSPORT_DEFAULTS'),
      ...fromObject(d.WEBRTC_LINK_DEFAULTS, 'WEBRTC_LINK_DEFAULTS', 'link.'),
      link: { value: 'WEBRTC_LINK_DEFAULTS', from: 'the name of the link defaults' },
    },
    // connectionBudget: the transport's own has no limit by default (no constant to compare);
    // MeshSocket's, under Mesh, is WEBRTC_NETWORK_DEFAULTS.connectionBudget and is checked there.
    unchecked: ['signaler', 'iceServers', 'wrtc', 'connectionBudget'],
    mustList: {
      'docs/API.md': [...Object.keys(d.WEBRTC_TRANSPORT_DEFAULTS), 'link'],
      'docs/LIMITS.md': [...Object.keys(d.WEBRTC_TRANSPORT_DEFAULTS), 'link.chunkBytes', 'link.maxMessageBytes', 'link.closeTimeoutMs'],
    },
  }
  const server = fromObject(d.SIGNALING_SERVER_DEFAULTS, 'DEFAULT_OPTIONS (signaling/options.ts)')
  return [
    {
      heading: /^Wire\b/,
      columns: {
        default: {
          dir: 'src/wire',
          values: {
            ...fromObject(d.FRAME_DEFAULTS, 'FRAME_DEFAULTS'),
            minCompressBytes: { value: entry.DEFAULT_MIN_COMPRESS_BYTES, from: 'DEFAULT_MIN_COMPRESS_BYTES' },
          },
          unchecked: [],
          mustList: { 'docs/LIMITS.md': [...Object.keys(d.FRAME_DEFAULTS), 'minCompressBytes'] },
        },
      },
    },
    {
      heading: /^Links\b/,
      columns: {
        'memory / sim links': {
          dir: 'src/transport',
          values: fromObject(d.MEMORY_LINK_DEFAULTS, 'MEMORY_LINK_DEFAULTS'),
          unchecked: [],
          mustList: { 'docs/LIMITS.md': Object.keys(d.MEMORY_LINK_DEFAULTS) },
        },
        'WebRTC links': {
          dir: 'src/transport',
          values: fromObject(d.WEBRTC_LINK_DEFAULTS, 'WEBRTC_LINK_DEFAULTS'),
          unchecked: [],
          mustList: { 'docs/LIMITS.md': ['maxMessageBytes', 'highWaterMark'] },
        },
      },
    },
    { heading: /^WebRTC\b/, columns: { default: webrtc } },
    {
      heading: /^Signaling client\b/,
      columns: {
        default: {
          dir: 'src/transport',
          values: {
            timeoutMs: { value: d.DEFAULT_SIGNALING_TIMEOUT_MS, from: 'DEFAULT_SIGNALING_TIMEOUT_MS' },
            reconnect: { value: d.DEFAULT_RECONNECT, from: 'DEFAULT_RECONNECT' },
          },
          // random, clock: injected services whose defaults are the host's (Math.random, systemClock).
          unchecked: ['url', 'identity', 'net', 'WebSocket', 'random', 'clock'],
          mustList: { 'docs/API.md': ['timeoutMs', 'reconnect'], 'docs/LIMITS.md': ['timeoutMs', 'reconnect'] },
        },
      },
    },
    {
      heading: /^Signaling server\b/,
      columns: {
        default: {
          dir: 'signaling',
          values: server,
          unchecked: [],
          mustList: {
            'docs/API.md': Object.keys(server),
            'docs/LIMITS.md': Object.keys(server).filter((k) => !['port', 'host', 'iceServers'].includes(k)),
          },
        },
      },
    },
    { heading: /^Mesh\b/, columns: { default: mesh } },
    {
      heading: /^Sync table\b/,
      columns: {
        default: {
          dir: 'src/sync',
          values: fromObject(Object.fromEntries(Object.entries(d.SYNC_DEFAULTS).filter(([k]) => k !== 'leasing')), 'SYNC_DEFAULTS'),
          // leasing: a boolean, stated in words.
          unchecked: ['leasing'],
          mustList: {
            'docs/API.md': Object.keys(d.SYNC_DEFAULTS),
            'docs/LIMITS.md': Object.keys(d.SYNC_DEFAULTS).filter((k) => k !== 'leasing'),
          },
        },
      },
    },
    {
      heading: /^Persistent identity\b/,
      columns: {
        default: {
          dir: 'src/storage',
          values: {
            maxSlots: { value: d.IDENTITY_STORE_DEFAULTS.maxSlots, from: 'IDENTITY_STORE_DEFAULTS.maxSlots' },
            store: {
              value: `createStore('${String(d.IDENTITY_STORE_DEFAULTS.database)}', '${String(d.IDENTITY_STORE_DEFAULTS.objectStore)}')`,
              from: 'IDENTITY_STORE_DEFAULTS.database/objectStore',
            },
          },
          unchecked: ['subnet', 'backend'],
          mustList: { 'docs/API.md': ['maxSlots', 'store'] },
        },
      },
    },
  ]
}

/** Source files (tests and test helpers left out), relative to the repository. */
function sourceFiles(): string[] {
  return ['src', 'signaling']
    .flatMap((dir) => readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' }).map((f) => join(dir, f)))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !/\.test\.ts$/.test(f) && !f.startsWith(join('src', 'testing')))
}

/**
 * A constant by name (`NAME` or `NAME.key`): from the package entry, else from the source file
 * that exports it (searched in `dir` first), else the literal of an unexported `const NAME = 1_024`.
 * `value` undefined with `internal` set: declared but neither exported nor a plain number.
 */
async function findConstant(dotted: string, dir: string): Promise<{ value: unknown; from: string; internal?: boolean }> {
  const [name, ...path] = dotted.split('.') as [string, ...string[]]
  const pick = (obj: unknown): unknown => path.reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj)
  if (name in entry) return { value: pick((entry as Record<string, unknown>)[name]), from: `${dotted} (package entry)` }
  const files = sourceFiles().sort((a, b) => Number(!a.startsWith(dir)) - Number(!b.startsWith(dir)))
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8')
    if (new RegExp(`^export const ${name}\\b`, 'm').test(text)) {
      const mod = (await import(join(ROOT, file))) as Record<string, unknown>
      return { value: pick(mod[name]), from: `${dotted} (${file})` }
    }
  }
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8')
    const m = new RegExp(`^const ${name} = ([\\d_]+(?: \\* [\\d_]+)*)$`, 'm').exec(text)
    if (m !== null && path.length === 0) {
      const value = m[1]!.split(' * ').reduce((p, f) => p * Number(f.replace(/_/g, '')), 1)
      return { value, from: `${name} (${file}, not exported)` }
    }
    if (new RegExp(`^const ${name}\\b`, 'm').test(text)) return { value: undefined, from: `${name} (${file})`, internal: true }
  }
  throw new Error(`no source file declares ${name}`)
}

async function checkDefaults(file: (typeof DOCS)[number], text: string, defaults: Defaults): Promise<string[]> {
  const failures: string[] = []
  const scopes = buildScopes(defaults)
  const listed = new Map<Scope, Set<string>>()
  for (const table of parseTables(file, text)) {
    const optionCol = table.header.findIndex((h) => /^option\b/.test(h))
    if (optionCol < 0) continue
    const defaultCols = table.header.map((h, i) => ({ h, i })).filter(({ h }) => h === 'default' || (optionCol > 1 && table.header[0] === 'bound' && /links$/.test(h)))
    const where = `${file}:${table.line} (## ${table.section})`
    const group = scopes.find((s) => s.heading.test(table.section))
    if (group === undefined) {
      failures.push(`${where}: an option table in a section the test knows no defaults for: add it to buildScopes in src/docs.test.ts`)
      continue
    }
    for (const { h, i } of defaultCols) {
      const scope = group.columns[h]
      if (scope === undefined) {
        failures.push(`${where}: default column "${h}" unknown to the test`)
        continue
      }
      const names = listed.get(scope) ?? new Set<string>()
      listed.set(scope, names)
      for (const row of table.rows) {
        const option = row.cells[optionCol] ?? ''
        const cell = row.cells[i] ?? ''
        const at = `${file}:${row.line}`
        if (option.startsWith('`')) {
          const name = codeSpans(option)[0]!.split(/[:?(\s]/)[0]!
          names.add(name)
          if (scope.unchecked.includes(name)) continue
          const expected = scope.values[name]
          if (expected === undefined) {
            failures.push(`${at}: option \`${name}\` has no code default the test knows: add it to buildScopes in src/docs.test.ts (or list it as unchecked)`)
            continue
          }
          const got = differs(cell, expected.value)
          if (got !== undefined) failures.push(`${at}: \`${name}\`: docs say ${got}, code says ${show(expected.value)} (${expected.from})`)
        } else if (option.startsWith('—')) {
          // "— (`CONSTANT`)": not an option, but a constant the code exports (or declares): check it too.
          const spans = codeSpans(option)
          const name = spans.find((s) => /^[A-Z][A-Z0-9_]+(\.\w+)?$/.test(s))
          if (name === undefined) continue
          let found: Awaited<ReturnType<typeof findConstant>>
          try {
            found = await findConstant(name, scope.dir)
          } catch {
            failures.push(`${at}: names \`${name}\`, which no source file declares`)
            continue
          }
          if (found.internal === true) continue
          const literal = spans.find((s) => s.startsWith('{'))
          if (literal !== undefined && typeof found.value === 'object' && found.value !== null) {
            for (const d of literalDiffers(parseLiteral(literal), found.value)) failures.push(`${at}: \`${name}\` ${d} (${found.from})`)
            continue
          }
          const got = differs(cell, found.value)
          if (got !== undefined) failures.push(`${at}: \`${name}\`: docs say ${got}, code says ${show(found.value)} (${found.from})`)
        }
      }
    }
  }
  for (const group of scopes) {
    for (const [column, scope] of Object.entries(group.columns)) {
      const must = scope.mustList[file]
      if (must === undefined) continue
      const names = listed.get(scope)
      const missing = must.filter((n) => !names?.has(n))
      if (missing.length > 0) failures.push(`${file}: section ${String(group.heading)} (${column}) has no row for ${missing.map((n) => `\`${n}\``).join(', ')}`)
    }
  }
  // `X_DEFAULTS` (or `DEFAULT_X`) — `{ a: 1, … }`: the literal must be the object.
  for (const m of text.matchAll(/`([A-Z][A-Z0-9_]*_DEFAULTS|DEFAULT_[A-Z0-9_]+)(?::[^`]*)?`\s*—\s*`(\{[^`]*\})`/g)) {
    const name = m[1]!
    const obj = name in defaults ? (defaults as unknown as Record<string, object>)[name] : (await findConstant(name, 'src')).value
    const line = text.slice(0, m.index).split('\n').length
    for (const d of literalDiffers(parseLiteral(m[2]!), obj as object)) failures.push(`${file}:${line}: \`${name}\` ${d}`)
  }
  return failures
}

// ---------------------------------------------------------------- tests

const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8')

describe('docs', () => {
  it('state the defaults the code has (option tables of README, API and LIMITS)', async () => {
    const defaults = await codeDefaults()
    const failures = (await Promise.all(DOCS.map((f) => checkDefaults(f, read(f), defaults)))).flat()
    expect(failures, failures.join('\n')).toEqual([])
  })

  it('would fail if a default changed in code and not in the docs', async () => {
    const defaults = await codeDefaults()
    const changed = { ...defaults, MESH_DEFAULTS: { ...defaults.MESH_DEFAULTS, maxOutgoing: 5, keepaliveMs: 6_000 } }
    const api = await checkDefaults('docs/API.md', read('docs/API.md'), changed)
    const limits = await checkDefaults('docs/LIMITS.md', read('docs/LIMITS.md'), changed)
    expect(api.some((f) => f.includes('`maxOutgoing`: docs say 4') && f.includes('code says 5 (MESH_DEFAULTS.maxOutgoing)'))).toBe(true)
    expect(limits.some((f) => f.includes('`keepaliveMs`: docs say 5000') && f.includes('code says 6000'))).toBe(true)
    const link = { ...defaults, WEBRTC_LINK_DEFAULTS: { ...defaults.WEBRTC_LINK_DEFAULTS, closeTimeoutMs: 1 } }
    const literal = await checkDefaults('docs/API.md', read('docs/API.md'), link)
    expect(literal.some((f) => f.includes('`WEBRTC_LINK_DEFAULTS` closeTimeoutMs: docs say 5000, code says 1'))).toBe(true)
    const backoff = { ...defaults, DEFAULT_RECONNECT: { ...defaults.DEFAULT_RECONNECT, maxMs: 60_000 } }
    const apiBackoff = await checkDefaults('docs/API.md', read('docs/API.md'), backoff)
    const limitsBackoff = await checkDefaults('docs/LIMITS.md', read('docs/LIMITS.md'), backoff)
    expect(apiBackoff.some((f) => f.includes('`reconnect`: docs say') && f.includes('"maxMs":60000'))).toBe(true)
    expect(apiBackoff.some((f) => f.includes('`DEFAULT_RECONNECT` maxMs: docs say 30000, code says 60000'))).toBe(true)
    expect(limitsBackoff.some((f) => f.includes('`reconnect`: docs say'))).toBe(true)
  })

  it('normalise numbers written with separators and units', () => {
    expect(quantities('300 000 ms')).toEqual([300_000])
    expect(quantities('5 s, then 10 min')).toEqual([5_000, 600_000])
    expect(quantities('64 KiB (65,536 bytes; ≥ 1,024)')).toEqual([65_536, 65_536, 1_024])
    expect(quantities('16 MiB')).toEqual([16 * 1024 * 1024])
    expect(quantities('16 entries, 8 URLs each')).toEqual([16, 8])
    expect(parseLiteral('{ a: 1_000, b: \'x\' /* note */ }')).toEqual({ a: 1000, b: 'x' })
  })

  it('name every public export of the package in docs/API.md', () => {
    const values = Object.keys(entry)
    const types = exportedTypes(join(ROOT, 'src/index.ts'))
    const documented = documentedNames(read('docs/API.md'))
    const missing = [...new Set([...values, ...types])].filter((n) => !documented.has(n)).sort()
    expect(missing, `undocumented in docs/API.md: ${missing.join(', ')}`).toEqual([])
  })
})
