// Helpers shared by the two flood pages (ours and raw simple-peer).

/** An undirected link between node indices, smaller index first. */
export type Edge = [number, number]

/** Links from adjacency lists, sorted; a link only one end lists is left out. */
export function edgesOf(lists: number[][]): Edge[] {
  const edges: Edge[] = []
  for (const [i, list] of lists.entries()) for (const j of list) if (i < j && lists[j]?.includes(i) === true) edges.push([i, j])
  return edges.sort((a, b) => a[0] - b[0] || a[1] - b[1])
}

/** Whether every node reaches node 0 over links both ends list. */
export function isConnected(lists: number[][]): boolean {
  const seen = new Set([0])
  const stack = [0]
  while (stack.length > 0) {
    const i = stack.pop()!
    for (const j of lists[i] ?? []) {
      if (seen.has(j) || lists[j]?.includes(i) !== true) continue
      seen.add(j)
      stack.push(j)
    }
  }
  return seen.size === lists.length
}

/** Polls `ready` every `everyMs` (timers clamp to ≥ 4 ms when nested); rejects after `timeoutMs`. */
export async function waitUntil(ready: () => boolean, timeoutMs: number, everyMs = 0): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!ready()) {
    if (performance.now() > deadline) throw new Error(`not settled within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}
