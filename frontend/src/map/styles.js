// Colours and class breaks for every thematic mode. One table per mode, so the
// legend and the renderer can never disagree.
import { T } from './strings.js';

export const NO_DATA_COLOUR = '#c4cdd5';

export const CLASSIFICATION_COLOURS = {
  upgrade: '#2e7d32', // 改造提升
  transform: '#ef6c00', // 优化转型
  clear_out: '#c62828', // 整治清退
};

export const STAGE_COLOURS = {
  planned: '#7b8794', // 谋划
  started: '#1e88e5', // 启动
  in_progress: '#8e24aa', // 推进
  completed: '#2e7d32', // 完成
};

// 亩均效益综合评价 classes (the latest fixed one): green to red, as the county's maps draw them.
export const GRADE_COLOURS = { A: '#1a9850', B: '#91cf60', C: '#fee08b', D: '#d73027' };
/** Text on a class's colour: dark on the light B and C, white on A and D. */
export const GRADE_INK = { A: '#fff', B: '#173d00', C: '#5c4300', D: '#fff' };

// 开发区 / 镇街工业园区 outlines (dashed; app/ows/styles.py PARK_COLOURS draws the same).
export const PARK_COLOURS = { development_zone: '#00897b', town_park: '#6d4c41' };

export const CONTIGUITY_COLOURS = { contiguous: '#1565c0', scattered: '#f9a825' };

// Sequential classes. FAR breaks put the plan's 2.0 floor on a class edge; 亩均税收
// breaks follow the usual 10/20/30 万元 tiers of the 亩均 evaluation.
const FAR_CLASSES = {
  breaks: [0.6, 1.0, 1.5, 2.0],
  colours: ['#fee5d9', '#fcae91', '#fb6a4a', '#cb181d', '#67000d'],
};
const TAX_CLASSES = {
  breaks: [5, 10, 20, 30],
  colours: ['#edf8e9', '#bae4b3', '#74c476', '#31a354', '#006d2c'],
};

export const MODES = {
  classification: {
    title: T.legend.classification,
    value: (p) => p.classification,
    colour: (v) => CLASSIFICATION_COLOURS[v] || NO_DATA_COLOUR,
    items: () => [
      ...Object.entries(CLASSIFICATION_COLOURS).map(([k, c]) => [c, T.classification[k]]),
      [NO_DATA_COLOUR, T.legend.unclassified],
    ],
  },
  far: sequential(T.legend.far, (p) => p.far, FAR_CLASSES, 1),
  planned_far: sequential(T.legend.planned_far, (p) => p.planned_far, FAR_CLASSES, 1),
  tax_per_mu: sequential(T.legend.tax_per_mu, (p) => p.tax_per_mu, TAX_CLASSES, 0),
  contiguity: {
    title: T.legend.contiguity,
    value: (p) => (p.block_code ? 'contiguous' : 'scattered'),
    colour: (v) => CONTIGUITY_COLOURS[v],
    items: () => Object.entries(CONTIGUITY_COLOURS).map(([k, c]) => [c, T.kind[k]]),
  },
  evaluation_grade: {
    title: T.legend.evaluation_grade,
    value: (p) => p.evaluation_grade || null,
    colour: (v) => GRADE_COLOURS[v] || NO_DATA_COLOUR,
    items: () => [
      ...Object.entries(GRADE_COLOURS).map(([g, c]) => [c, T.legend.grade(g)]),
      [NO_DATA_COLOUR, T.legend.notGraded],
    ],
  },
};

function sequential(title, value, classes, digits) {
  const fmt = (x) => x.toFixed(digits);
  return {
    title,
    value: (p) => (p === null || value(p) === null || value(p) === undefined ? null : Number(value(p))),
    colour: (v) => {
      if (v === null || Number.isNaN(v)) return NO_DATA_COLOUR;
      let i = 0;
      while (i < classes.breaks.length && v >= classes.breaks[i]) i += 1;
      return classes.colours[i];
    },
    items: () => {
      const b = classes.breaks;
      const rows = [[classes.colours[0], `< ${fmt(b[0])}`]];
      for (let i = 1; i < b.length; i += 1) rows.push([classes.colours[i], `${fmt(b[i - 1])} – ${fmt(b[i])}`]);
      rows.push([classes.colours[b.length], `≥ ${fmt(b[b.length - 1])}`]);
      rows.push([NO_DATA_COLOUR, T.legend.noData]);
      return rows;
    },
  };
}

/** Fill colour of a parcel's properties in a mode. */
export function parcelColour(mode, props) {
  const m = MODES[mode];
  return m.colour(m.value(props));
}

/**
 * Fill colour of a unit's aggregate (from /api/map/units) in a mode, for the
 * aggregated low-zoom view: the dominant classification, or the unit's mean.
 */
export function unitColour(mode, unit) {
  if (!unit.parcel_count) return NO_DATA_COLOUR;
  if (mode === 'classification') {
    const [best] = Object.entries(unit.classification_mu).sort((a, b) => (b[1] || 0) - (a[1] || 0));
    return best && best[1] ? CLASSIFICATION_COLOURS[best[0]] : NO_DATA_COLOUR;
  }
  if (mode === 'evaluation_grade') return NO_DATA_COLOUR; // the units' aggregates carry no class
  if (mode === 'contiguity') {
    return (unit.contiguous_mu || 0) >= (unit.scattered_mu || 0) ? CONTIGUITY_COLOURS.contiguous : CONTIGUITY_COLOURS.scattered;
  }
  const value = mode === 'tax_per_mu' ? unit.tax_per_mu : unit.far;
  return MODES[mode === 'planned_far' ? 'far' : mode].colour(value ?? null);
}
