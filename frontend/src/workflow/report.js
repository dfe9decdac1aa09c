// A plan's rule report as the officer and the reviewer read it: the verdict, the figures (land,
// FAR now and planned, classification mix), 连片, every failed rule and every warning in Chinese.
import { h as el, mu } from "../common/api.js";
import { MIX_COLOURS } from "./planmap.js";
import { T } from "./strings.js";

/** A FAR as the pages write it: two decimals, — when unknown. */
export function far(value) {
  return value === null || value === undefined ? T.dash : Number(value).toFixed(2);
}

/** Failed rules and warnings of the report (plan rules, geometry problems, per-parcel rules). */
export function findings(report) {
  const items = [
    ...(report.violations || []),
    ...(report.problems || []),
    ...(report.parcels || []).flatMap((p) => (p.violations || []).map((v) => ({ ...v, parcel: p.id }))),
  ];
  return {
    errors: items.filter((v) => v.severity !== "warning"),
    warnings: items.filter((v) => v.severity === "warning"),
  };
}

export function verdict(report) {
  const { errors, warnings } = findings(report);
  const text = (errors.length ? T.report.failed(errors.length) : T.report.passed)
    + (warnings.length ? `，${T.report.warnings(warnings.length)}` : "");
  return el("p", { class: `verdict ${errors.length ? "bad" : "ok"}`, "data-testid": "verdict" }, text);
}

export function figuresTable(report) {
  const f = report.figures;
  const rows = [
    // the 连片 floor of the 行动计划 the report was checked against (200 亩 in 2022—2023)
    [T.report.land(report.action_plan ? Number(report.action_plan.thresholds.min_block_mu) : 200), `${mu(report.land_area_mu)} ${T.mu}`],
    [T.report.boundaryArea, report.boundary_area_mu === null ? T.dash : `${mu(report.boundary_area_mu)} ${T.mu}`],
  ];
  if (f) {
    rows.push(
      [T.report.parcelCount, String(f.parcel_count)],
      [T.report.enterpriseCount, String(f.enterprise_count)],
      [T.report.withoutEnterprise, String(f.parcels_without_enterprise)],
      [T.report.farNow, far(f.far_now)],
      [T.report.farPlanned, f.far_planned === null ? T.dash
        : far(f.far_planned) + (f.far_planned_declared ? T.report.farDeclared : T.report.farComputed)],
    );
  }
  const c = report.contiguity;
  if (c) {
    rows.push([T.report.contiguity, c.is_contiguous ? T.report.contiguous(c.gaps.length) : T.report.apart(c.component_count)]);
  }
  const table = el("table", { class: "info figures" });
  for (const [label, value] of rows) table.append(el("tr", {}, el("th", { scope: "row" }, label), el("td", {}, value)));
  if (f && f.classification_mu.length) {
    const bar = el("div", { class: "mix", role: "img", "aria-label": f.classification_mu.map((m) => `${m.label} ${mu(m.area_mu)} ${T.mu}`).join("，") });
    const total = f.classification_mu.reduce((s, m) => s + m.area_mu, 0) || 1;
    const keys = el("ul", { class: "mix-keys" });
    for (const m of f.classification_mu) {
      const part = el("span", { style: `width:${(100 * m.area_mu) / total}%;background:${MIX_COLOURS[m.classification]}` });
      bar.append(part);
      keys.append(el("li", {}, el("i", { style: `background:${MIX_COLOURS[m.classification]}` }), `${m.label} ${mu(m.area_mu)} ${T.mu}`));
    }
    table.append(el("tr", {}, el("th", { scope: "row" }, T.report.mix), el("td", {}, bar, keys)));
  }
  return table;
}

export function findingsList(report) {
  const { errors, warnings } = findings(report);
  const box = el("div", { class: "findings" });
  const list = (items, cls, title) => {
    if (!items.length) return;
    const ul = el("ul", { class: `violations ${cls}`, "aria-label": title });
    for (const v of items) ul.append(el("li", { class: cls }, (v.parcel ? `${v.parcel}：` : "") + (v.message_zh || "")));
    box.append(el("h4", {}, title), ul);
  };
  list(errors, "error", T.report.errors);
  list(warnings, "warning", T.report.warningsHeading);
  return box;
}

/** The whole report: verdict, figures, findings. */
export function reportView(report) {
  const box = el("div", { class: "report" });
  box.append(verdict(report), figuresTable(report), findingsList(report));
  return box;
}
