"""Plausibility of figures typed into an uploaded file, against the ones computed from its geometry.

Used by the upload report (app/ingest): a declared area that disagrees with the
geometry, or a floor-area ratio no industrial building reaches, is data-entry
trouble the clerk should see before anything is stored.
"""

from __future__ import annotations

import numpy as np

# A declared area within 1 % of the computed one is rounding or a different survey
# vintage; beyond that it is usually a different polygon or a unit mix-up (m² vs 亩).
AREA_MISMATCH_RELATIVE = 0.01
# Industrial FAR in Tongxiang is 0.3–4 (the plan's target is 2.0); 10 would be a
# 20-storey factory over the whole plot. Above it the floor area or the polygon is wrong.
MAX_PLAUSIBLE_FAR = 10.0


def area_mismatch(declared, computed) -> np.ndarray:
    """True where a declared area differs from the computed one by more than 1 % (same units; NaN → False).

    Examples
    --------
    >>> area_mismatch([10.0, 10.2, np.nan], [10.05, 10.0, 3.0]).tolist()
    [False, True, False]
    """
    declared = np.asarray(declared, dtype=float)
    computed = np.asarray(computed, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.abs(declared - computed) / np.abs(computed)
    return np.nan_to_num(rel, nan=0.0, posinf=np.inf) > AREA_MISMATCH_RELATIVE


def far_out_of_range(far) -> np.ndarray:
    """True where a floor-area ratio is negative or above :data:`MAX_PLAUSIBLE_FAR` (NaN → False).

    Examples
    --------
    >>> far_out_of_range([0.0, 2.5, 12.0, -1.0, np.nan]).tolist()
    [False, False, True, True, False]
    """
    far = np.asarray(far, dtype=float)
    with np.errstate(invalid="ignore"):
        return (far < 0) | (far > MAX_PLAUSIBLE_FAR)


def area_unit_of(declared, computed_m2) -> str | None:
    """Which unit a declared-area column is in, "m2" or "mu", judged on the median ratio; None if neither fits.

    Files name the column 面积 or MJ whatever the unit, so the numbers decide.

    Examples
    --------
    >>> area_unit_of([20.0, 30.0], [13333.4, 20000.1])
    'mu'
    >>> area_unit_of([13333.0, 20000.0], [13333.4, 20000.1])
    'm2'
    """
    declared = np.asarray(declared, dtype=float)
    computed_m2 = np.asarray(computed_m2, dtype=float)
    ok = np.isfinite(declared) & np.isfinite(computed_m2) & (declared > 0) & (computed_m2 > 0)
    if not ok.any():
        return None
    ratio = float(np.median(computed_m2[ok] / declared[ok]))
    if 0.9 < ratio < 1.1:
        return "m2"
    if 0.9 * 10000 / 15 < ratio < 1.1 * 10000 / 15:
        return "mu"
    return None
