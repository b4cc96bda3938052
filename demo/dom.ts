/** Small DOM helpers shared by the demo panels. */

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text = ''): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v)
  if (text) node.textContent = text
  return node
}

const SVG_NS = 'http://www.w3.org/2000/svg'

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag)
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v))
  return node
}

/** A labelled row: the label text, then the control or output. */
export function field(label: string, input: HTMLElement): HTMLLabelElement {
  const wrap = el('label')
  wrap.append(el('span', {}, label), input)
  return wrap
}

/** The first characters of a node id: enough to tell nodes apart on screen. */
export function shortId(id: string): string {
  return id.slice(0, 8)
}
