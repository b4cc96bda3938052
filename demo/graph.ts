import { shortId, svg } from './dom.js'
import type { GraphView } from './topology.js'

const WIDTH = 420
const HEIGHT = 260
const RADIUS = 90
const NODE_R = 14

/** Positions on a circle, first node on the left; a lone node sits in the middle. */
export function circularLayout(count: number): { x: number; y: number }[] {
  const cx = WIDTH / 2
  const cy = HEIGHT / 2
  if (count === 1) return [{ x: cx, y: cy }]
  return Array.from({ length: count }, (_, i) => {
    const angle = Math.PI + (2 * Math.PI * i) / count
    return { x: cx + RADIUS * Math.cos(angle), y: cy + RADIUS * Math.sin(angle) }
  })
}

/** An empty graph canvas; draw into it with drawGraph(). */
export function createGraph(): SVGSVGElement {
  return svg('svg', {
    'data-testid': 'graph',
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: 'img',
    'aria-label': 'this node’s view of the network',
    class: 'graph',
  })
}

/** Replaces the canvas's content with `view`: edges first, nodes on top, short ids as labels. */
export function drawGraph(canvas: SVGSVGElement, view: GraphView): void {
  const at = new Map<string, { x: number; y: number }>()
  const positions = circularLayout(view.nodes.length)
  view.nodes.forEach((node, i) => at.set(node.id, positions[i]!))
  const self = view.nodes.find((n) => n.kind === 'self')?.id
  const edges = view.edges.flatMap(({ a, b }) => {
    const p = at.get(a)
    const q = at.get(b)
    if (p === undefined || q === undefined) return []
    const mine = a === self || b === self
    return [svg('line', { 'data-testid': 'graph-edge', 'data-a': a, 'data-b': b, class: mine ? 'edge mine' : 'edge', x1: p.x, y1: p.y, x2: q.x, y2: q.y })]
  })
  const nodes = view.nodes.map((node) => {
    const p = at.get(node.id)!
    const g = svg('g', { 'data-testid': 'graph-node', 'data-id': node.id, 'data-kind': node.kind, class: `node ${node.kind}` })
    const title = svg('title')
    title.textContent = `${node.id} (${node.kind})`
    const label = svg('text', { x: p.x, y: p.y + NODE_R + 14, 'text-anchor': 'middle' })
    label.textContent = node.kind === 'self' ? `${shortId(node.id)} (me)` : shortId(node.id)
    g.append(title, svg('circle', { cx: p.x, cy: p.y, r: NODE_R }), label)
    return g
  })
  canvas.replaceChildren(...edges, ...nodes)
}
