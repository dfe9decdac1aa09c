// The left panel: layers, colour mode, filter, basemap. Plain labelled form
// controls, so every one is reachable and usable from the keyboard.
import { T } from './strings.js';
import { escapeHtml, fromHtml as el } from '../common/api.js';

const STAGES = ['planned', 'started', 'in_progress', 'completed'];

/**
 * @param {HTMLElement} host
 * @param {object} opts  units [{code,name}], years [int], basemaps [{id,label}], initialBasemap,
 *                       onLayer(name, on), onMode(mode), onFilter(filter), onBasemap(id)
 */
export function buildSidePanel(host, opts) {
  const option = (value, label, selected = false) => `<option value="${escapeHtml(value)}"${selected ? ' selected' : ''}>${escapeHtml(label)}</option>`;
  const layerBox = (name, checked = true) => `<label class="check"><input type="checkbox" name="layer" value="${name}"${checked ? ' checked' : ''}> ${escapeHtml(T.layers[name])}</label>`;
  const modeRadio = (mode, checked) => `<label class="check"><input type="radio" name="mode" value="${mode}"${checked ? ' checked' : ''}> ${escapeHtml(T.colourBy[mode])}</label>`;
  const basemapRadio = (b) => `<label class="check"><input type="radio" name="basemap" value="${b.id}"${b.id === opts.initialBasemap ? ' checked' : ''}> ${escapeHtml(b.label)}</label>`;

  const panel = el(`
    <form class="side-form" aria-label="${escapeHtml(T.panelTitle)}">
      <fieldset><legend>${escapeHtml(T.layersHeading)}</legend>
        ${layerBox('units')}${layerBox('blocks')}${layerBox('parcels')}
      </fieldset>
      <fieldset><legend>${escapeHtml(T.colourByHeading)}</legend>
        ${Object.keys(T.colourBy).map((m, i) => modeRadio(m, i === 0)).join('')}
      </fieldset>
      <fieldset><legend>${escapeHtml(T.filterHeading)}</legend>
        <label class="field">${escapeHtml(T.filter.unit)}
          <select name="unit">${option('', T.filter.all)}${opts.units.map((u) => option(u.code, u.name)).join('')}</select></label>
        <label class="field">${escapeHtml(T.filter.year)}
          <select name="year">${option('', T.filter.all)}${opts.years.map((y) => option(y, `${y} 年`)).join('')}</select></label>
        <label class="field">${escapeHtml(T.filter.stage)}
          <select name="stage">${option('', T.filter.all)}${STAGES.map((s) => option(s, T.stage[s])).join('')}</select></label>
        <label class="field">${escapeHtml(T.filter.kind)}
          <select name="kind">${option('', T.filter.all)}${option('contiguous', T.kind.contiguous)}${option('scattered', T.kind.scattered)}</select></label>
        <p class="hint">${escapeHtml(T.filter.yearNote)}</p>
        <button type="button" class="secondary" name="reset">${escapeHtml(T.filter.reset)}</button>
      </fieldset>
      <fieldset><legend>${escapeHtml(T.basemapHeading)}</legend>
        ${opts.basemaps.map(basemapRadio).join('')}
        ${opts.basemaps.length === 1 ? `<p class="hint">${escapeHtml(T.basemap.noKey)}</p>` : ''}
      </fieldset>
    </form>`);
  host.append(panel);

  const currentFilter = () => {
    const f = {};
    for (const name of ['unit', 'year', 'stage', 'kind']) {
      const v = panel.elements[name].value;
      if (v) f[name] = v;
    }
    return f;
  };
  panel.addEventListener('submit', (e) => e.preventDefault());
  panel.addEventListener('change', (e) => {
    const t = e.target;
    if (t.name === 'layer') opts.onLayer(t.value, t.checked);
    else if (t.name === 'mode') opts.onMode(t.value);
    else if (t.name === 'basemap') opts.onBasemap(t.value);
    else if (['unit', 'year', 'stage', 'kind'].includes(t.name)) opts.onFilter(currentFilter());
  });
  panel.elements.reset.addEventListener('click', () => {
    for (const name of ['unit', 'year', 'stage', 'kind']) panel.elements[name].value = '';
    opts.onFilter({});
  });
  return panel;
}
