import { chatText, createChatPanel } from './chat-panel.js'
import type { JoinDefaults } from './config.js'
import { el, field } from './dom.js'
import { errorCode, errorDetail } from './errors.js'
import { createGraph, drawGraph } from './graph.js'
import { MeshSession } from './mesh-session.js'
import { createStatsPanel } from './stats-panel.js'
import type { GraphView } from './topology.js'

const STATS_MS = 1_000

/** The mesh panels: join/leave, chat, this node's view of the network, and its counters. */
export function mountMeshPanels(root: HTMLElement, defaults: JoinDefaults): void {
  // Join panel
  const joinPanel = el('section', { class: 'panel', 'data-testid': 'join-panel' })
  const signaling = el('input', { type: 'text', value: defaults.signaling, 'data-testid': 'mesh-signaling' })
  const subnet = el('input', { type: 'text', value: defaults.subnet, 'data-testid': 'mesh-subnet' })
  const join = el('button', { 'data-testid': 'mesh-join' }, 'Join')
  const leave = el('button', { 'data-testid': 'mesh-leave', disabled: '' }, 'Leave')
  const status = el('output', { class: 'status', 'data-testid': 'mesh-status', 'data-state': 'idle' }, 'not joined')
  const myId = el('div', { class: 'out mono', 'data-testid': 'mesh-id' }, '–')
  const connection = el('output', { class: 'status', 'data-testid': 'mesh-connection', 'data-state': 'idle' }, '–')
  const problem = el('div', { class: 'out', 'data-testid': 'mesh-problem' }, 'none')
  const buttons = el('div', { class: 'row' })
  buttons.append(join, leave, status)
  joinPanel.append(el('h2', {}, 'Mesh'), field('Signaling server', signaling), field('Subnet', subnet), buttons, field('My node id', myId), field('Signaling connection', connection), field('Last problem', problem))

  // Graph panel
  const graphPanel = el('section', { class: 'panel', 'data-testid': 'graph-panel' })
  const graph = createGraph()
  const summary = el('div', { class: 'summary', 'data-testid': 'graph-summary' }, 'not joined')
  const legend = el('ul', { class: 'legend' })
  for (const kind of ['self', 'neighbour', 'other'] as const) {
    const item = el('li', { class: kind })
    item.append(el('i'), kind === 'self' ? 'this node' : kind === 'neighbour' ? 'direct peer' : 'known through announcements')
    legend.append(item)
  }
  graphPanel.append(el('h2', {}, 'Network as this node sees it'), graph, summary, legend)
  const showGraph = (view: GraphView): void => {
    drawGraph(graph, view)
    const n = view.nodes.length
    const e = view.edges.length
    summary.textContent = `${n} ${n === 1 ? 'node' : 'nodes'}, ${e} ${e === 1 ? 'link' : 'links'}`
  }

  let session: MeshSession | undefined
  const stats = createStatsPanel()
  const chat = createChatPanel((text) => {
    const s = session
    if (s === undefined) return
    try {
      s.say(text).catch((err: unknown) => chat.failed(errorCode(err), errorDetail(err)))
      chat.add({ sender: s.id, text, own: true })
    } catch (err: unknown) {
      chat.failed(errorCode(err), errorDetail(err))
    }
  })

  const setStatus = (state: string, text = state, detail = ''): void => {
    status.textContent = text
    status.dataset.state = state
    status.title = detail
  }
  /** Online / offline from the socket's events ('idle' and a dash when not joined). */
  const setConnection = (state: 'idle' | 'online' | 'offline'): void => {
    connection.textContent = state === 'idle' ? '–' : state
    connection.dataset.state = state
    connection.title = state === 'offline' ? 'the signaling server is lost: links stay up, reconnecting by itself' : ''
  }
  const showProblem = (code: string, detail: string): void => {
    problem.textContent = `${code} at ${new Date().toLocaleTimeString()}`
    problem.title = detail
  }
  const refresh = (): void => stats.show(session?.mesh.stats)
  setInterval(refresh, STATS_MS)

  join.addEventListener('click', () => {
    if (session !== undefined) return
    join.disabled = true
    setStatus('joining')
    problem.textContent = 'none'
    problem.title = ''
    const options = { ...defaults.tuning, signaling: signaling.value.trim(), subnet: subnet.value.trim() }
    MeshSession.join(options, {
      message: (m) => chat.add({ sender: m.sender, text: chatText(m.payload), own: false }),
      topology: showGraph,
      peers: refresh,
      problem: showProblem,
      connection: setConnection,
    }).then(
      (joined) => {
        session = joined
        myId.textContent = joined.id
        leave.disabled = false
        chat.setEnabled(true)
        refresh()
        joined.ready().then(
          () => {
            if (session !== joined) return
            setStatus('ready')
            // Started means registered at the signaling server, unless an 'offline' came since.
            if (connection.dataset.state === 'idle') setConnection('online')
          },
          (err: unknown) => {
            if (session !== joined) return
            // Start-up failed (bad URL, server down…): drop this socket, let the user try again.
            setStatus('error', `error: ${errorCode(err)}`, errorDetail(err))
            leaveSession(joined, false)
          },
        )
      },
      (err: unknown) => {
        setStatus('error', `error: ${errorCode(err)}`, errorDetail(err))
        join.disabled = false
      },
    )
  })

  /** Closes `s`; `showLeft` is false when the status already says why it ended. */
  const leaveSession = (s: MeshSession, showLeft: boolean): void => {
    session = undefined
    leave.disabled = true
    chat.setEnabled(false)
    refresh()
    if (showLeft) setStatus('leaving')
    void s
      .close()
      .catch((err: unknown) => showProblem(errorCode(err), errorDetail(err)))
      .finally(() => {
        if (showLeft) setStatus('left')
        setConnection('idle')
        summary.textContent = 'not joined'
        graph.replaceChildren()
        join.disabled = session !== undefined
      })
  }
  leave.addEventListener('click', () => {
    if (session !== undefined) leaveSession(session, true)
  })
  // Closing tells peers now, instead of letting them time out the silent link.
  window.addEventListener('pagehide', () => void session?.close())

  const mesh = el('div', { class: 'mesh-grid' })
  mesh.append(joinPanel, graphPanel, chat.section, stats.section)
  root.append(mesh)
}
