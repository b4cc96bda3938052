/**
 * Helpers of src/docs.test.ts: markdown tables and code spans, numbers as the docs write them,
 * and the exports of a module as its source declares them.
 */
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'

// ---------------------------------------------------------------- markdown

interface Row {
  line: number
  cells: string[]
}
export interface Table {
  file: string
  line: number
  /** The nearest `##` heading above the table. */
  section: string
  header: string[]
  rows: Row[]
}

function splitRow(line: string): string[] {
  const cells = line.trim().replace(/^\|/, '').replace(/(?<!\\)\|$/, '').split(/(?<!\\)\|/)
  return cells.map((c) => c.trim().replace(/\\\|/g, '|'))
}

/** Tables (outside fenced code) with the `##` section each is in. */
export function parseTables(file: string, text: string): Table[] {
  const tables: Table[] = []
  const lines = text.split('\n')
  let section = ''
  let fenced = false
  let current: Table | undefined
  lines.forEach((raw, i) => {
    const line = raw.trim()
    if (line.startsWith('```')) fenced = !fenced
    if (fenced || !line.startsWith('|')) {
      current = undefined
      if (!fenced && /^## /.test(line)) section = line.slice(3).trim()
      return
    }
    if (current === undefined) {
      current = { file, line: i + 1, section, header: splitRow(line), rows: [] }
      tables.push(current)
    } else if (!/^\|[\s:|-]+\|?$/.test(line)) {
      current.rows.push({ line: i + 1, cells: splitRow(line) })
    }
  })
  return tables
}

export function codeSpans(text: string): string[] {
  return [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!)
}

const UNITS: Record<string, number> = {
  ms: 1, s: 1000, min: 60_000, h: 3_600_000,
  B: 1, byte: 1, bytes: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3,
}

/**
 * Every number in a cell, normalised: thousands separators (`,`, spaces) dropped, `_` too, and a
 * unit right after it applied (time to ms, sizes to bytes): "300 000 ms", "5 s", "64 KiB".
 */
export function quantities(cell: string): number[] {
  const re = /(?<![\w.])(\d{1,3}(?:[,\u00a0\u202f ]\d{3})+(?!\d)|[\d_]+(?:\.\d+)?)(?:\s?(ms|s|min|h|bytes|byte|B|KiB|MiB|GiB)\b)?/g
  return [...cell.matchAll(re)].map((m) => Number(m[1]!.replace(/[,\u00a0\u202f _]/g, '')) * (UNITS[m[2] ?? ''] ?? 1))
}

/** `{ a: 1_000, b: 'x' /* note *\/ }` → { a: 1000, b: 'x' } (flat literals only). */
export function parseLiteral(text: string): Record<string, number | string> {
  const body = text.replace(/\/\*.*?\*\//g, '').trim().replace(/^\{/, '').replace(/\}$/, '')
  const out: Record<string, number | string> = {}
  for (const part of body.split(',')) {
    const m = /^\s*(\w+)\s*:\s*(.+?)\s*$/.exec(part)
    if (m === null) continue
    const v = m[2]!
    out[m[1]!] = /^['"].*['"]$/.test(v) ? v.slice(1, -1) : Number(v.replace(/_/g, ''))
  }
  return out
}

// ---------------------------------------------------------------- comparison

export const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x)))

/** undefined if `cell` states `expected`, else what the docs say instead. */
export function differs(cell: string, expected: unknown): string | undefined {
  if (typeof expected === 'number') {
    const first = quantities(cell)[0]
    return first === expected ? undefined : first === undefined ? `no number in "${cell}"` : `${first} ("${cell}")`
  }
  if (typeof expected === 'string' || Array.isArray(expected)) {
    const span = codeSpans(cell)[0] ?? cell
    const text = span.replace(/^(['"])(.*)\1$/, '$2')
    return text === show(expected) ? undefined : `"${cell}"`
  }
  if (typeof expected === 'object' && expected !== null) {
    // A literal in the cell (`{ a: 1, b: 2 }`) must be the object; without one, its numbers in order.
    const literal = codeSpans(cell).find((s) => s.trim().startsWith('{'))
    if (literal !== undefined) return literalDiffers(parseLiteral(literal), expected).length === 0 ? undefined : `"${literal}"`
    const want = Object.values(expected).filter((v) => typeof v === 'number')
    const got = quantities(cell)
    return show(got) === show(want) ? undefined : `${show(got)} ("${cell}")`
  }
  return `"${cell}" (cannot compare with ${show(expected)})`
}

export function literalDiffers(literal: Record<string, number | string>, expected: object): string[] {
  const want = expected as Record<string, unknown>
  const keys = new Set([...Object.keys(literal), ...Object.keys(want)])
  return [...keys].filter((k) => literal[k] !== want[k]).map((k) => `${k}: docs say ${show(literal[k])}, code says ${show(want[k])}`)
}

// ---------------------------------------------------------------- exports

/** Names of `export type { … }` (and `export *` of such files, followed) in a module. */
export function exportedTypes(file: string, seen = new Set<string>()): string[] {
  if (seen.has(file)) return []
  seen.add(file)
  const text = readFileSync(file, 'utf8')
  const names = [...text.matchAll(/^export type \{([^}]*)\}/gm)].flatMap((m) =>
    m[1]!.split(',').map((s) => s.trim().split(/\s+as\s+/).pop()!).filter((s) => s !== ''),
  )
  names.push(...[...text.matchAll(/^export (?:interface|type) (\w+)/gm)].map((m) => m[1]!))
  for (const m of text.matchAll(/^export \* from '(\.[^']+)'/gm)) {
    names.push(...exportedTypes(resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')), seen))
  }
  return names
}

/** Identifiers in headings, table rows and code spans (fenced code left out). */
export function documentedNames(text: string): Set<string> {
  const names = new Set<string>()
  let fenced = false
  for (const line of text.split('\n')) {
    if (line.trim().startsWith('```')) {
      fenced = !fenced
      continue
    }
    if (fenced) continue
    const parts = /^\s*(#|\|)/.test(line) ? [line] : codeSpans(line)
    for (const part of parts) for (const m of part.matchAll(/[A-Za-z_$][\w$]*/g)) names.add(m[0])
  }
  // Code spans broken over two lines.
  for (const span of text.replace(/```[\s\S]*?```/g, '').matchAll(/`([^`]+)`/g)) {
    for (const m of span[1]!.matchAll(/[A-Za-z_$][\w$]*/g)) names.add(m[0])
  }
  return names
}
