import { SyncSocket, webRtcNetwork } from 'p2p-today'
import type { JoinDefaults } from './config.js'
import { el, field, shortId } from './dom.js'
import { errorCode, errorDetail } from './errors.js'
import { cuttableNetwork, type CuttableNetwork } from './sync-network.js'
import { MAX_ROWS, parseValue, refusal, showValue, SyncRows, type RowAction } from './sync-rows.js'

/** The lease countdowns and the peer count refresh this often. */
const TICK_MS = 1_000

/**
 * What the page puts on `window.syncDemo`, for experiments in the console and the e2e specs:
 * the joined socket (its whole public API), when Join was clicked, and the network switch.
 */
export interface SyncDemoHandle {
  readonly socket: SyncSocket | undefined
  /** `performance.now()` when the current socket was made. */
  readonly joinedAt: number | undefined
  readonly network: CuttableNetwork | undefined
}

declare global {
  interface Window {
    syncDemo?: SyncDemoHandle
  }
}

interface Joined {
  socket: SyncSocket
  net: CuttableNetwork
  at: number
  me: string | undefined
  off: (() => void)[]
}

/**
 * The shared-table panel: join a sync subnet (the mesh panels' signaling server), set, edit and
 * delete keys, see each key's owner and lease, cut this page's links and reconnect. The table
 * kept in IndexedDB shows again after a reload once the page joins the same subnet.
 * `?sync=` names the subnet (default: the mesh's).
 */
export function mountSyncPanel(root: HTMLElement, defaults: JoinDefaults, search: string): void {
  const section = el('section', { class: 'panel sync', 'data-testid': 'sync-panel' })
  const subnet = el('input', { type: 'text', value: new URLSearchParams(search).get('sync')?.trim() || defaults.subnet, 'data-testid': 'sync-subnet' })
  const join = el('button', { 'data-testid': 'sync-join' }, 'Join')
  const leave = el('button', { 'data-testid': 'sync-leave', disabled: '' }, 'Leave')
  const state = el('output', { class: 'status', 'data-testid': 'sync-state', 'data-state': 'idle' }, 'not joined')
  const cut = el('button', { 'data-testid': 'sync-cut', 'data-state': 'linked', disabled: '', title: 'close every link of this page, then reconnect: a partition and its heal' }, 'Cut links')
  const myId = el('span', { class: 'mono', 'data-testid': 'sync-id' }, '–')
  const peers = el('span', { 'data-testid': 'sync-peers' }, '0')
  const count = el('span', { 'data-testid': 'sync-count' }, '0')
  const restored = el('span', { 'data-testid': 'sync-restored' }, '0')
  const key = el('input', { type: 'text', placeholder: 'key', 'data-testid': 'sync-key', maxlength: '1024' })
  const value = el('input', { type: 'text', placeholder: 'value (JSON or text)', 'data-testid': 'sync-value' })
  const setButton = el('button', { 'data-testid': 'sync-set', disabled: '' }, 'Set')
  const deleteButton = el('button', { 'data-testid': 'sync-delete', disabled: '' }, 'Delete')
  const result = el('output', { class: 'out sync-result', 'data-testid': 'sync-result', 'data-state': 'idle' }, '–')
  const conflict = el('div', { class: 'out', 'data-testid': 'sync-conflict' }, 'none')
  const problem = el('div', { class: 'out', 'data-testid': 'sync-problem' }, 'none')
  const more = el('div', { class: 'summary', 'data-testid': 'sync-more' })

  const joinRow = el('div', { class: 'row' })
  joinRow.append(subnet, join, leave, cut, state)
  const facts = el('div', { class: 'sync-facts' })
  facts.append(field('My node id', myId), field('Peers', peers), field('Keys', count), field('Restored from storage', restored))
  const editRow = el('div', { class: 'row' })
  editRow.append(key, value, setButton, deleteButton)

  let joined: Joined | undefined
  let scheduled = false
  const rows = new SyncRows((action, k) => onRow(action, k))

  const render = (): void => {
    scheduled = false
    const n = rows.render(joined?.socket, joined?.me, Date.now())
    count.textContent = String(n)
    more.textContent = n > MAX_ROWS ? `showing the first ${MAX_ROWS} of ${n} keys` : ''
    peers.textContent = String(joined?.socket.peers.length ?? 0)
  }
  /** Coalesces the events of a burst (anti-entropy merges hundreds of keys in one task) into one redraw. */
  const schedule = (): void => {
    if (scheduled) return
    scheduled = true
    setTimeout(render, 30)
  }
  setInterval(render, TICK_MS)

  const setState = (s: string, text = s, detail = ''): void => {
    state.textContent = text
    state.dataset.state = s
    state.title = detail
  }
  const say = (ok: boolean, text: string, detail = ''): void => {
    result.textContent = text
    result.dataset.state = ok ? 'ok' : 'error'
    result.title = detail
  }
  const enable = (on: boolean): void => {
    for (const b of [setButton, deleteButton, cut, leave]) b.disabled = !on
    join.disabled = on || joined !== undefined
  }

  /** Runs one write and says how it went: "set "k": ok", or why it was refused. */
  const write = (label: string, run: (s: SyncSocket) => Promise<void>): void => {
    const s = joined?.socket
    if (s === undefined) return
    run(s).then(
      () => say(true, `${label}: ok`),
      (err: unknown) => say(false, refusal(err, Date.now()), errorDetail(err)),
    )
    schedule()
  }

  const onRow = (action: RowAction, k: string): void => {
    if (action === 'edit') {
      key.value = k
      value.value = showValue(joined?.socket.get(k))
      value.focus()
    } else if (action === 'delete') write(`delete ${JSON.stringify(k)}`, (s) => s.delete(k))
    else write(`release ${JSON.stringify(k)}`, (s) => s.release(k))
  }

  setButton.addEventListener('click', () => {
    const k = key.value
    if (k === '') return say(false, 'a key is needed')
    const v = parseValue(value.value)
    write(`set ${JSON.stringify(k)}`, (s) => s.set(k, v))
  })
  value.addEventListener('keydown', (e) => e.key === 'Enter' && setButton.click())
  deleteButton.addEventListener('click', () => {
    const k = key.value
    if (k === '') return say(false, 'a key is needed')
    write(`delete ${JSON.stringify(k)}`, (s) => s.delete(k))
  })

  cut.addEventListener('click', () => {
    const net = joined?.net
    if (net === undefined) return
    if (net.cutOff) net.heal()
    else net.cut()
    cut.dataset.state = net.cutOff ? 'cut' : 'linked'
    cut.textContent = net.cutOff ? 'Reconnect' : 'Cut links'
    schedule()
  })

  join.addEventListener('click', () => {
    if (joined !== undefined) return
    const net = cuttableNetwork(webRtcNetwork({ signaling: defaults.signaling }))
    let socket: SyncSocket
    try {
      socket = new SyncSocket({ ...defaults.tuning, ...defaults.syncTuning, signaling: defaults.signaling, subnet: subnet.value.trim() }, { network: net.factory })
    } catch (err: unknown) {
      return setState('error', `error: ${errorCode(err)}`, errorDetail(err))
    }
    const j: Joined = { socket, net, at: performance.now(), me: undefined, off: [] }
    joined = j
    restored.textContent = '0'
    conflict.textContent = 'none'
    problem.textContent = 'none'
    say(true, '–')
    enable(false)
    setState('joining')
    j.off.push(
      socket.on('update', (_k, _v, meta) => {
        if (meta.source === 'restore') restored.textContent = String(Number(restored.textContent) + 1)
        schedule()
      }),
      socket.on('delete', schedule),
      socket.on('peer', schedule),
      socket.on('peer-left', schedule),
      socket.on('conflict', (k, mine, winner) => {
        const by = winner === undefined ? 'nobody' : winner.writer === j.me ? 'me' : `${shortId(winner.writer)}…`
        conflict.textContent = `${JSON.stringify(k)}: mine (${showValue(mine)}) lost to ${by}`
        schedule()
      }),
      socket.on('error', (err) => {
        problem.textContent = `${err.code} at ${new Date().toLocaleTimeString()}`
        problem.title = errorDetail(err)
      }),
    )
    socket.ready().then(
      () => {
        if (joined !== j) return
        j.me = socket.id
        myId.textContent = j.me
        setState('ready')
        enable(true)
        render()
      },
      (err: unknown) => {
        if (joined !== j) return
        setState('error', `error: ${errorCode(err)}`, errorDetail(err))
        void close(j)
      },
    )
  })

  const close = async (j: Joined): Promise<void> => {
    if (joined === j) joined = undefined
    for (const off of j.off.splice(0)) off()
    enable(false)
    cut.dataset.state = 'linked'
    cut.textContent = 'Cut links'
    myId.textContent = '–'
    render()
    await j.socket.close().catch((err: unknown) => (problem.textContent = errorCode(err)))
    join.disabled = joined !== undefined
  }
  leave.addEventListener('click', () => {
    if (joined === undefined) return
    setState('leaving')
    void close(joined).then(() => setState('left'))
  })
  // Closing says goodbye to the peers at once; what the table holds is already in IndexedDB.
  window.addEventListener('pagehide', () => void joined?.socket.close())

  window.syncDemo = {
    get socket() {
      return joined?.socket
    },
    get joinedAt() {
      return joined?.at
    },
    get network() {
      return joined?.net
    },
  }

  section.append(el('h2', {}, 'Shared table (SyncSocket)'), joinRow, facts, editRow, result, rows.table, more, field('Last conflict', conflict), field('Last problem', problem))
  root.append(section)
}
