// The map panels' own formatting (四至, two-column tables); numbers and escaping are common/api.js's.
import { escapeHtml } from '../common/api.js';
import { T } from './strings.js';

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
