"""Pure geometry for the Tongxiang renewal programme: CRS, 亩, 容积率 and the plan's rules.

No database, web or file I/O lives here; ``app/`` imports only from this module.
"""

from .crs import (
    AREA_SRID,
    STORAGE_SRID,
    WEB_MERCATOR_SRID,
    WGS84_SRID,
    ZONE_PREFIXED_AREA_SRID,
    gcj02_to_storage,
    reproject,
    storage_to_gcj02,
    to_area_crs,
    to_storage_crs,
    transformer,
)
from .measure import M2_PER_MU, area_m2, area_mu, area_mu_of_storage, floor_area_ratio

__all__ = [
    "AREA_SRID",
    "M2_PER_MU",
    "STORAGE_SRID",
    "WEB_MERCATOR_SRID",
    "WGS84_SRID",
    "ZONE_PREFIXED_AREA_SRID",
    "area_m2",
    "area_mu",
    "area_mu_of_storage",
    "floor_area_ratio",
    "gcj02_to_storage",
    "reproject",
    "storage_to_gcj02",
    "to_area_crs",
    "to_storage_crs",
    "transformer",
]
