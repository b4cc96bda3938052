import { el, shortId } from './dom.js'

/** Lines kept in the log; older ones are removed from the page. */
const MAX_LINES = 200

export interface ChatLine {
  sender: string
  text: string
  own: boolean
}

export interface ChatPanel {
  section: HTMLElement
  add(line: ChatLine): void
  /** A failed send, shown in the log as its error code. */
  failed(code: string, detail: string): void
  setEnabled(enabled: boolean): void
}

/** A chat message's text: a lone string as is, anything else as compact, bounded JSON. */
export function chatText(payload: readonly unknown[]): string {
  if (payload.length === 1 && typeof payload[0] === 'string') return payload[0]
  try {
    const json = JSON.stringify(payload, (_k, v: unknown) =>
      v instanceof Uint8Array ? `<${v.length} bytes>` : typeof v === 'bigint' ? `${v}n` : v,
    )
    return json.length > 300 ? `${json.slice(0, 300)}…` : json
  } catch {
    return '<unprintable payload>'
  }
}

/** The chat panel: an input that broadcasts a line to the mesh, and the log of lines. */
export function createChatPanel(send: (text: string) => void): ChatPanel {
  const section = el('section', { class: 'panel', 'data-testid': 'chat-panel' })
  const input = el('input', { type: 'text', placeholder: 'Say something to the whole mesh', 'data-testid': 'chat-input', maxlength: '2000' })
  const button = el('button', { 'data-testid': 'chat-send' }, 'Send')
  const log = el('ol', { class: 'chat-log', 'data-testid': 'chat-log', 'aria-live': 'polite' })
  const row = el('div', { class: 'row' })
  row.append(input, button)
  section.append(el('h2', {}, 'Chat (broadcast)'), log, row)

  const submit = (): void => {
    const text = input.value.trim()
    if (text === '' || button.disabled) return
    input.value = ''
    send(text)
  }
  button.addEventListener('click', submit)
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') submit()
  })

  const append = (item: HTMLLIElement): void => {
    log.append(item)
    while (log.childElementCount > MAX_LINES) log.firstElementChild?.remove()
    log.scrollTop = log.scrollHeight
  }
  const setEnabled = (enabled: boolean): void => {
    input.disabled = !enabled
    button.disabled = !enabled
  }
  setEnabled(false)
  return {
    section,
    setEnabled,
    add({ sender, text, own }) {
      const item = el('li', { class: own ? 'own' : '', 'data-testid': 'chat-line', 'data-sender': sender })
      item.append(el('span', { class: 'who mono', title: sender }, own ? `${shortId(sender)} (me)` : shortId(sender)), el('span', { class: 'text' }, text))
      append(item)
    },
    failed(code, detail) {
      append(el('li', { class: 'error', 'data-testid': 'chat-error', title: detail }, `not sent: ${code}`))
    },
  }
}
