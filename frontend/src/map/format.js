// Formatting helpers shared by the panels.
import { T } from './strings.js';

export function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

export function formatNumber(value, digits = 2) {
  if (value === null || value === undefined || value === '') return T.dash;
  return Number(value).toLocaleString('zh-CN', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** 四至 one side: the stored text may already begin with 东至/南至…; never say it twice. */
export function fourSide(prefix, text) {
  if (!text) return `${prefix}${T.dash}`;
  return text.startsWith(prefix) ? text : `${prefix}${text}`;
}

export function fourText(p) {
  return [
    fourSide(T.block.four.east, p.four_east),
    fourSide(T.block.four.south, p.four_south),
    fourSide(T.block.four.west, p.four_west),
    fourSide(T.block.four.north, p.four_north),
  ].join('，');
}

/** A small two-column table: rows of [label, value] (values are escaped). */
export function infoTable(rows) {
  const body = rows
    .map(([label, value]) => `<tr><th scope="row">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`)
    .join('');
  return `<table class="info">${body}</table>`;
}

/** An element from an HTML string (one root). */
export function el(html) {
  const t = document.createElement('template');
  t.innerHTML = html.trim();
  return t.content.firstElementChild;
}
