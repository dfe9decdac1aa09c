"""A block boundary read from a file (zipped Shapefile, GeoPackage, GeoJSON) through the upload
checks: the same safe unzip, layer choice, encoding and CRS decision as a parcel upload, then
exactly one polygon, returned in EPSG:4490 for the officer's map. Nothing is stored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import mapping

import spatial

from ..errors import FieldError, InvalidUpload
from ..messages import message
from .read import Limits, open_upload
from .service import decide_crs


def _refuse(key: str, **values) -> InvalidUpload:
    text = message(key, **values)
    return InvalidUpload(text, [FieldError("file", text)], code="invalid_boundary", status_code=422)


def read_boundary(path: Path, filename: str, workdir: Path, limits: Limits, *, layer: str | None = None,
                  crs: str | None = None) -> dict:
    raw = open_upload(path, filename, workdir, limits, layer=layer, target="blocks")
    geoms = raw.geometries()
    present = geoms[~shapely.is_missing(geoms)]
    if present.size == 0:
        raise _refuse("boundary_file_empty")
    decision = decide_crs(raw, crs)
    polygons = [g for g in present if g.geom_type in ("Polygon", "MultiPolygon")]
    if len(polygons) != len(present):
        kind = next(g.geom_type for g in present if g.geom_type not in ("Polygon", "MultiPolygon"))
        raise _refuse("boundary_file_not_polygon", kind=GEOMETRY_ZH.get(kind, kind))
    if len(polygons) != 1:
        raise _refuse("boundary_file_one_polygon", count=len(polygons))
    geom_4549 = spatial.reproject(np.array(polygons, dtype=object), decision.source, spatial.AREA_SRID)[0]
    problems = spatial.geometry_problems(geom_4549)
    repaired = [p for p in problems if p.repaired is not None]
    if repaired:
        geom_4549 = repaired[-1].repaired
    geom = spatial.reproject(geom_4549, spatial.AREA_SRID, spatial.STORAGE_SRID)
    return {
        "geometry": mapping(geom),
        "crs": f"EPSG:{decision.epsg}" if decision.epsg else None,
        "crs_name": decision.info.get("name"),
        "area_mu": round(spatial.area_mu(geom_4549), 2),
        "problems": [p.message_zh for p in problems],
        "repaired": bool(repaired),
    }


GEOMETRY_ZH = {"Point": "点", "MultiPoint": "多点", "LineString": "线", "MultiLineString": "多线",
               "GeometryCollection": "几何集合"}
