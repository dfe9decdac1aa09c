// 规范管理 · admission tab: placeholder until the tab is built (see regulation.js for the contract).
import { h } from '../common/api.js';

export function mount(section) {
  section.append(h('p', { class: 'hint' }, '—'));
}
