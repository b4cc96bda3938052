import { joinDefaults } from './config.js'
import { el } from './dom.js'
import { mountMeshPanels } from './mesh-panels.js'
import { mountSyncPanel } from './sync-panel.js'
import { mountWireLab } from './wire-lab.js'

const app = document.getElementById('app')
if (app === null) throw new Error('index.html has no #app element')
const mesh = el('div', { id: 'mesh' })
const sync = el('div', { id: 'sync' })
const wire = el('div', { id: 'wire-lab' })
app.append(el('h2', { class: 'group' }, 'Mesh network'), mesh, el('h2', { class: 'group' }, 'Shared table'), sync, el('h2', { class: 'group' }, 'Wire lab'), wire)
const defaults = joinDefaults(location.search, import.meta.env.VITE_P2P_SIGNALING)
mountMeshPanels(mesh, defaults)
mountSyncPanel(sync, defaults, location.search)
void mountWireLab(wire).then(() => (app.dataset.ready = 'true'))
