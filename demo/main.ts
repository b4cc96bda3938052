import { mountWireLab } from './wire-lab.js'

const app = document.getElementById('app')
if (app === null) throw new Error('index.html has no #app element')
void mountWireLab(app)
