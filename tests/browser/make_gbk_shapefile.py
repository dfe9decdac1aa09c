"""A small GBK-encoded zipped Shapefile like the ones town clerks send: Chinese field
names and values, EPSG:4549 with a .prj, three parcels of which one is a self-intersecting
'bow tie' — so the upload report has an offending feature to highlight.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
from shapely import Polygon, box

# Near 崇福镇, in CGCS2000 / 3-degree GK CM 120E (metres).
X0, Y0 = 542_900.0, 3_379_400.0


def gbk_parcels_zip() -> bytes:
    rows = [
        {"宗地编号": "330483-UP-0001", "权利人": "桐乡市上传测试纺织有限公司", "建筑面积": 12000.0, "分类": "改造提升"},
        {"宗地编号": "330483-UP-0002", "权利人": "浙江上传示例羽绒有限公司", "建筑面积": 8000.0, "分类": "优化转型"},
        {"宗地编号": "330483-UP-0003", "权利人": "桐乡市蝴蝶结机械厂", "建筑面积": 3000.0, "分类": "整治清退"},
    ]
    geoms = [
        box(X0, Y0, X0 + 120, Y0 + 100),
        box(X0 + 130, Y0, X0 + 250, Y0 + 100),
        # A bow tie: the ring crosses itself.
        Polygon([(X0 + 260, Y0), (X0 + 380, Y0 + 100), (X0 + 380, Y0), (X0 + 260, Y0 + 100), (X0 + 260, Y0)]),
    ]
    return zipped_gbk_shapefile(gpd.GeoDataFrame(rows, geometry=geoms, crs=4549))


def zipped_gbk_shapefile(frame: gpd.GeoDataFrame) -> bytes:
    """``frame`` as 宗地.shp (GBK) and its side files in a zip, as a clerk's export arrives."""
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(buffer, "w") as zf:
        path = Path(tmp) / "宗地.shp"
        pyogrio.write_dataframe(frame, path, encoding="GBK")
        for part in sorted(Path(tmp).iterdir()):
            zf.write(part, part.name)
    return buffer.getvalue()
