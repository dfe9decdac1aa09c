// The search box in the top bar: parcel code, enterprise name or credit code, block
// name. Results are a list of buttons (arrow keys move between them); choosing one
// flies the map there and opens it.
import { fetchJson, query, ApiError, fromHtml as el, escapeHtml } from '../common/api.js';
import { T } from './strings.js';

/** The second line of a result: its code where people use one (not a unit's internal code), and its town. */
function subLine(r) {
  // an enterprise registered from an upload has no credit code yet
  const parts = r.kind === 'unit' ? [] : [r.code || (r.kind === 'enterprise' ? T.codePending : null)];
  if (r.unit_name && r.unit_name !== r.label) parts.push(r.unit_name);
  return parts.filter(Boolean).join(' · ');
}

export function buildSearch(host, { onChoose, onError }) {
  const form = el(`
    <form class="search" role="search" autocomplete="off">
      <label for="search-input" class="sr-only">${escapeHtml(T.search.label)}</label>
      <input id="search-input" name="q" type="search" placeholder="${escapeHtml(T.search.placeholder)}" aria-controls="search-results">
      <button type="submit">${escapeHtml(T.search.button)}</button>
      <div id="search-results" class="search-results" hidden aria-live="polite"></div>
    </form>`);
  host.append(form);
  const input = form.elements.q;
  const box = form.querySelector('#search-results');

  const close = () => { box.hidden = true; box.innerHTML = ''; };
  const show = (q, results) => {
    box.hidden = false;
    if (!results.length) {
      box.innerHTML = `<p class="empty">${escapeHtml(T.search.none(q))}</p>`;
      return;
    }
    box.innerHTML = `<p class="count">${escapeHtml(T.search.results(results.length))}</p><ul>${results.map((r, i) => `
      <li><button type="button" class="result" data-index="${i}">
        <span class="kind kind-${r.kind}">${escapeHtml(T.search.kinds[r.kind])}</span>
        <span class="label">${escapeHtml(r.label)}</span>
        <span class="sub">${escapeHtml(subLine(r))}</span>
      </button></li>`).join('')}</ul>`;
    box.querySelectorAll('button.result').forEach((b) => b.addEventListener('click', () => {
      const r = results[Number(b.dataset.index)];
      close();
      onChoose(r);
    }));
  };

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const q = input.value.trim();
    if (!q) { close(); return; }
    try {
      const body = await fetchJson(`/api/search${query({ q })}`);
      if (body.results.length === 1) { close(); onChoose(body.results[0]); return; }
      show(q, body.results);
    } catch (err) {
      if (err instanceof ApiError) onError(err.message);
      else throw err;
    }
  });
  form.addEventListener('keydown', (e) => {
    const buttons = [...box.querySelectorAll('button.result')];
    if (e.key === 'Escape') { close(); input.focus(); return; }
    if (!buttons.length || !['ArrowDown', 'ArrowUp'].includes(e.key)) return;
    e.preventDefault();
    const i = buttons.indexOf(document.activeElement);
    const next = e.key === 'ArrowDown' ? Math.min(buttons.length - 1, i + 1) : Math.max(-1, i - 1);
    if (next < 0) input.focus(); else buttons[next].focus();
  });
  document.addEventListener('click', (e) => { if (!form.contains(e.target)) close(); });
  return form;
}
