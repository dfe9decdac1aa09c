"""Benchmark of evaluation/: the default 亩均效益综合评价 of 10,000 synthetic enterprises.

    .venv/bin/python bench/bench_evaluation.py [--n 10000] [--repeat 3] [--seed 2025]

The enterprises are generated deterministically (seeded ``random``): about a third 规上, the rest
规下 (a tenth of them under 3 亩), 3 % new, 1 % utilities, 1 % major projects, 4 % of each figure
missing, a fifth with bonus/minus points. Times ``evaluate`` (best wall time of --repeat, with the
CPU time beside it) and, in the same run on the same data, a straightforward pandas implementation
of the same default formula (groupby sums for the means, vectorised scores, a sort for the ranks),
timed from the same Python objects and from a ready DataFrame; prints the ratios and how many
classes the two agree on (pandas works in floats, the engine in decimals). Target: < 2 s.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation import Adjustment, Enterprise, Figures, default_config, evaluate  # noqa: E402

YEAR = 2025
FIGURES = ("tax_10k", "revenue_10k", "value_added_10k", "energy_tce", "emission_t", "electricity_10k_kwh",
           "employees", "rd_10k")


def generate(n: int, seed: int) -> list[Enterprise]:
    rng = random.Random(seed)

    def money(x: float) -> Decimal:
        return Decimal(f"{x:.2f}")

    def maybe(x: Decimal) -> Decimal | None:
        return None if rng.random() < 0.04 else x

    firms = []
    for k in range(n):
        above = rng.random() < 0.35
        mu = rng.lognormvariate(3.2, 0.8) if above else rng.lognormvariate(1.8, 0.7)
        revenue = mu * rng.lognormvariate(5.5 if above else 4.6, 0.6)
        value_added = revenue * rng.uniform(0.15, 0.35)
        tax = revenue * rng.uniform(0.01, 0.06)
        figures = Figures(
            tax_10k=maybe(money(tax)), revenue_10k=maybe(money(revenue)), value_added_10k=maybe(money(value_added)),
            energy_tce=maybe(money(value_added / rng.uniform(0.5, 4))),
            emission_t=maybe(money(value_added / rng.uniform(20, 300))),
            electricity_10k_kwh=maybe(money(tax / rng.uniform(0.05, 0.6))),
            employees=maybe(Decimal(max(3, int(value_added / rng.uniform(8, 40))))),
            rd_10k=maybe(money(revenue * rng.uniform(0, 0.05))))
        adjustments: tuple[Adjustment, ...] = ()
        roll = rng.random()
        if roll < 0.1:
            adjustments = (Adjustment("innovation", rng.choice((1, 2, 3, 5, 8))),)
        elif roll < 0.2:
            adjustments = (Adjustment(rng.choice(("safety", "environment")), -rng.choice((2, 5, 10, 15))),)
        firms.append(Enterprise(
            f"91330483MA{k:08d}", f"企业{k:05d}", Decimal(f"{mu:.4f}"), "above" if above else "below",
            start_year=YEAR - 1 if rng.random() < 0.03 else rng.randint(1995, YEAR - 2),
            is_utility=rng.random() < 0.01, is_major_project=rng.random() < 0.01, figures=figures,
            adjustments=adjustments))
    return firms


def timed(fn, repeat: int):
    """(best wall s, CPU s of that run, last result)."""
    best, result = (float("inf"), 0.0), None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        w, c = time.perf_counter() - w0, time.process_time() - c0
        best = min(best, (w, c))
    return best[0], best[1], result


def to_frame(firms: list[Enterprise]):
    import pandas as pd

    rows = []
    for e in firms:
        row = {"code": e.credit_code, "scale": e.scale, "land_mu": float(e.land_mu), "start_year": e.start_year,
               "utility": e.is_utility, "major": e.is_major_project}
        for f in FIGURES:
            v = getattr(e.figures, f)
            row[f] = float(v) if v is not None else float("nan")
        for kind in ("safety", "environment", "innovation"):
            row[kind] = float(sum(a.points for a in e.adjustments if a.kind == kind))
        rows.append(row)
    return pd.DataFrame(rows)


def pandas_evaluate(df, config):
    """The default formula in pandas: groups, not graded, aggregate means × 2, capped scores, bounded
    bonus/minus, ranks (total, then 亩均税收 score) and floor cut-offs. Returns the class per code."""
    import numpy as np
    import pandas as pd

    df = df.copy()
    below_min = float(config.group("below").min_land_mu)
    df["group"] = np.where(df["scale"] == "above", "above",
                           np.where(df["land_mu"] >= below_min, "below", None))
    years = next(r.years for r in config.not_graded if r.code == "new_production")
    df["graded"] = df["group"].notna() & ~df["utility"] & ~df["major"] & ((YEAR - df["start_year"]) >= years)
    land = df["land_mu"].where(df["land_mu"] > 0)
    parts = {"tax_per_mu": ("tax_10k", land, 1), "value_added_per_mu": ("value_added_10k", land, 1),
             "value_added_per_energy": ("value_added_10k", "energy_tce", 1),
             "value_added_per_emission": ("value_added_10k", "emission_t", 1),
             "labour_productivity": ("value_added_10k", "employees", 1), "rd_ratio": ("rd_10k", "revenue_10k", 100),
             "tax_per_kwh": ("tax_10k", "electricity_10k_kwh", 1)}
    out = []
    for g in config.groups:
        sub = df[df["graded"] & (df["group"] == g.code)].copy()
        sub["indicator_score"] = 0.0
        for ic in g.indicators:
            num_col, den, mult = parts[ic.code]
            num = sub[num_col]
            den = land.loc[sub.index] if isinstance(den, pd.Series) else sub[den].where(sub[den] != 0)
            value = (num / den * mult).round(4)
            has = value.notna()
            mean = round(num[has].sum() / den[has].sum() * mult, 4)
            bench = round(float(ic.benchmark.factor) * mean, 4)
            score = (value / bench * float(ic.weight)).round(2).clip(lower=0, upper=float(ic.cap * ic.weight))
            sub[f"s_{ic.code}"] = score.fillna(0.0) if bench > 0 else 0.0
            sub["indicator_score"] += sub[f"s_{ic.code}"]
        adj = 0.0
        for a in config.adjustments:
            adj = adj + sub[a.kind].clip(lower=-float(a.max_minus), upper=float(a.max_bonus))
        sub["total"] = (sub["indicator_score"] + adj).round(2)
        sub = sub.sort_values(["total", "s_tax_per_mu", "code"], ascending=[False, False, True])
        key_changed = (sub["total"].diff().ne(0) | sub["s_tax_per_mu"].diff().ne(0)).to_numpy()
        position = np.arange(1, len(sub) + 1)
        sub["rank"] = np.maximum.accumulate(np.where(key_changed, position, 0))
        n, grade = len(sub), pd.Series("", index=sub.index)
        for cut in reversed(g.classes):
            grade[sub["rank"] <= int(n * float(cut.top_pct) // 100)] = cut.grade
        sub["grade"] = grade
        out.append(sub[["code", "grade"]])
    return pd.concat(out).set_index("code")["grade"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--data", type=Path, help="ignored (bench/run_all.py passes it to every benchmark)")
    args = ap.parse_args()

    config = default_config(YEAR)
    t0 = time.perf_counter()
    firms = generate(args.n, args.seed)
    print(f"generated {len(firms)} enterprises (seed {args.seed}) in {time.perf_counter() - t0:.2f} s")

    wall, cpu, result = timed(lambda: evaluate(firms, config), args.repeat)
    graded = sum(g.graded for g in result.groups)
    print(f"evaluate: best of {args.repeat}: {wall:.3f} s wall, {cpu:.3f} s CPU "
          f"({len(firms) / wall:,.0f} enterprises/s; target < 2 s)")
    for g in result.groups:
        print(f"  {g.code}: {g.graded} graded, {g.not_graded} not graded, classes {dict(g.grade_counts)}, "
              f"benchmark 亩均税收 {g.benchmarks['tax_per_mu']}")
    print(f"  in no group: {len(firms) - sum(g.graded + g.not_graded for g in result.groups)}")

    try:
        import pandas as pd
    except ImportError:
        print("pandas is not installed: no reference run")
        return 0
    pw, pc, _ = timed(lambda: pandas_evaluate(to_frame(firms), config), args.repeat)
    frame = to_frame(firms)
    fw, fc, grades = timed(lambda: pandas_evaluate(frame, config), args.repeat)
    print(f"pandas {pd.__version__}: from the same objects {pw:.3f} s wall ({pc:.3f} s CPU); "
          f"from a ready DataFrame {fw:.3f} s wall ({fc:.3f} s CPU)")
    print(f"ratio evaluate / pandas: {wall / pw:.2f} (same objects), {wall / fw:.2f} (ready DataFrame)")
    ours = {e.credit_code: e.grade for e in result.enterprises if e.graded}
    same = sum(ours.get(code) == grade for code, grade in grades.items())
    print(f"classes agreeing: {same} of {graded} graded (pandas graded {len(grades)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
