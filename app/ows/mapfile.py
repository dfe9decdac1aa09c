"""The MapServer mapfile, written from the layer registry (:func:`app.core.read.layers.collections`).

One LAYER per collection (units, blocks, approved_blocks, parcels), reading the app's own
database through PostGIS. Each layer's DATA is the registry's select compiled to SQL, so the
WFS properties — the ``*_label`` columns included — are those of ``/ogc``; the styles are the
map's legend (:mod:`.styles`) with Chinese class names from :mod:`app.enums`, so
GetLegendGraphic reads as the map's legend does.

The connection string names host, port, database and user only: the password reaches
``mapserv`` as ``PGPASSWORD`` in its environment (:mod:`.proxy`), so neither the mapfile nor
an error message of MapServer's ever holds it. The files are written 0600 into a private
0700 directory (:func:`write`).
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Integer, cast, type_coerce
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL
from sqlalchemy.types import NullType

from ..core.read.layers import Layer, Prop, collections
from ..enums import Classification, ParkKind, Stage
from ..messages import message
from . import styles

# The URL MapServer writes into its answers; :mod:`.proxy` replaces it with the request's own.
PLACEHOLDER = "http://cloudmap-ows.invalid/ows?"
SRS = "EPSG:4490 EPSG:4549 EPSG:4528 EPSG:3857 EPSG:4326"
# Tongxiang in lon/lat, for a database without units yet.
DEFAULT_EXTENT = (120.25, 30.45, 120.80, 30.80)
FONT_NAME = "wqy"
FONT_GLOBS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/**/wqy-microhei.ttc",
              "/usr/share/fonts/**/wqy-zenhei.ttc")
# Parcels' codes are labelled only when a parcel is large on the screen (scale 1:3000 or larger).
PARCEL_LABEL_MAXSCALE = 3000
MAP_NAME = "cloudmap"
UID = "ms_uid"  # the integer key MapServer identifies rows by (never served)


@dataclass(frozen=True)
class Files:
    """What :func:`write` wrote: the mapfile and MapServer's config file (``MAPSERVER_CONFIG_FILE``)."""

    directory: Path
    mapfile: Path
    config: Path


def q(value: object) -> str:
    """A mapfile string literal (MapServer's lexer reads ``\\"`` as a quote inside a string)."""
    text = str(value)
    if "\n" in text or "\r" in text:
        text = " ".join(text.splitlines())
    return '"' + text.replace('"', '\\"') + '"'


def colour(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return " ".join(str(int(h[i:i + 2], 16)) for i in (0, 2, 4))


def conninfo(url: URL) -> str:
    """libpq key=value connection string of a SQLAlchemy URL, without the password."""
    parts = {"host": url.host, "port": url.port, "dbname": url.database, "user": url.username}
    for key, value in url.query.items():  # e.g. ?host=/run/postgresql, sslmode=…
        if key != "password":
            parts[key] = value if isinstance(value, str) else value[-1]
    parts.setdefault("application_name", "cloudmap-ows")

    def quoted(v: object) -> str:
        s = str(v)
        return s if re.fullmatch(r"[A-Za-z0-9_./:@-]+", s) else "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"

    return " ".join(f"{k}={quoted(v)}" for k, v in parts.items() if v is not None and v != "")


def find_font() -> Path | None:
    for pattern in FONT_GLOBS:
        for path in sorted(glob.glob(pattern, recursive=True)):
            return Path(path)
    return None


def _column(p: Prop):
    """A boolean as 1/0: MapServer reads every value as text, and OGR's GeoJSON makes "true" a 0."""
    return cast(p.column, Integer) if p.type == "boolean" else p.column


def layer_sql(layer: Layer) -> str:
    """The layer's features as one SELECT (geometry ``geom``, the row id ``UID`` and every property), values inlined.

    MapServer's unique key is read as an integer (a text code would be cut to its leading digits),
    so it is the table's own id; the code stays the features' id in GML and GeoJSON (gml_featureid).
    The rows come in that id's order: MapServer pages WFS answers with LIMIT/OFFSET and no ORDER BY
    of its own unless the client sends ``sortBy``, and a parallel plan would otherwise give each
    page its own order (GDAL and QGIS would read some features twice and miss others).
    """
    stmt = layer.base.add_columns(
        type_coerce(layer.geom, NullType()).label("geom"), layer.table.id.label(UID),
        *[_column(p).label(p.name) for p in layer.properties],
    ).where(*layer.where).order_by(layer.table.id)
    sql = str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    return " ".join(sql.split("\n"))


def _metadata(items: Iterable[tuple[str, object]], indent: str) -> list[str]:
    lines = [f"{indent}METADATA"]
    lines += [f"{indent}  {q(k)} {q(v)}" for k, v in items]
    lines.append(f"{indent}END")
    return lines


def _label(indent: str, item: str, size: float, *, font: bool, maxscale: int | None = None) -> list[str]:
    if not font:
        return []
    lines = [
        f"{indent}LABEL",
        f"{indent}  TYPE TRUETYPE",
        f"{indent}  FONT {q(FONT_NAME)}",
        f"{indent}  SIZE {size}",
        f"{indent}  TEXT '[{item}]'",
        f"{indent}  COLOR {colour(styles.LABEL_COLOUR)}",
        f"{indent}  OUTLINECOLOR {colour(styles.HALO_COLOUR)}",
        f"{indent}  OUTLINEWIDTH 2",
        f"{indent}  POSITION CC",
        f"{indent}  PARTIALS FALSE",
        f"{indent}  MINDISTANCE 200",
    ]
    if maxscale:
        lines.append(f"{indent}  MAXSCALEDENOM {maxscale}")
    lines.append(f"{indent}END")
    return lines


def _class(name: str, expression: str | None, style: Sequence[str], label: list[str]) -> list[str]:
    lines = ["    CLASS", f"      NAME {q(name)}"]
    if expression is not None:
        lines.append(f"      EXPRESSION {q(expression)}")
    lines += ["      STYLE", *[f"        {s}" for s in style], "      END", *label, "    END"]
    return lines


def _classes(layer: Layer, font: bool) -> tuple[str | None, list[str]]:
    """CLASSITEM and the CLASSes: the map's legend for the layer."""
    out: list[str] = []
    if layer.id == "parcels":
        outline = [f"OUTLINECOLOR {colour(styles.PARCEL_OUTLINE)}", "WIDTH 0.6"]
        label = _label("      ", "code", 8, font=font, maxscale=PARCEL_LABEL_MAXSCALE)
        for member in Classification:
            fill = [f"COLOR {colour(styles.CLASSIFICATION_COLOURS[member.value])}", *outline]
            out += _class(member.label, member.value, fill, label)
        out += _class(message("ows_unclassified"), None, [f"COLOR {colour(styles.NO_DATA_COLOUR)}", *outline], label)
        return "classification", out
    if layer.id in ("blocks", "approved_blocks"):
        label = _label("      ", "name", 10, font=font)
        for member in Stage:
            line = [f"OUTLINECOLOR {colour(styles.STAGE_COLOURS[member.value])}", "WIDTH 3"]
            out += _class(member.label, member.value, line, label)
        return "stage", out
    if layer.id == "parks":
        label = _label("      ", "name", 10, font=font)
        for member in ParkKind:
            line = [f"OUTLINECOLOR {colour(styles.PARK_COLOURS[member.value])}", "WIDTH 2.5", "PATTERN 8 4 END"]
            out += _class(member.label, member.value, line, label)
        return "kind", out
    style = [f"OUTLINECOLOR {colour(styles.UNIT_OUTLINE)}", "WIDTH 1.5", "PATTERN 4 4 END"]
    out += _class(layer.title, None, style, _label("      ", "name", 11, font=font))
    return None, out


def _template(layer: Layer) -> str:
    """The GetFeatureInfo text/html template: one table per feature, Chinese titles, labels for codes."""
    rows = []
    for p in layer.properties:
        if p.name.endswith("_label") or p.type == "boolean":
            continue  # the label shows under its code's title; a boolean would read "true"
        item = f"{p.name}_label" if f"{p.name}_label" in layer.prop else p.name
        rows.append(f'<tr><th>{p.title}</th><td>[item name="{item}" escape="html"]</td></tr>')
    return "<!-- MapServer Template -->\n<table class=\"feature\">" + "".join(rows) + "</table>\n"


def _html_page(part: str, layer: Layer) -> str:
    if part == "header":
        return ("<!-- MapServer Template -->\n<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                f"<title>{layer.title}</title></head><body><h3>{layer.title}</h3>\n")
    return "<!-- MapServer Template -->\n</body></html>\n"


def _layer(layer: Layer, connection: str, directory: Path, font: bool) -> list[str]:
    names = [p.name for p in layer.properties]
    meta: list[tuple[str, object]] = [
        ("ows_title", layer.title),
        ("ows_abstract", layer.description),
        ("ows_srs", SRS),
        ("ows_include_items", ",".join(names)),
        ("gml_include_items", ",".join(names)),
        ("gml_featureid", "code"),
        ("gml_types", "auto"),
        ("gml_geometries", "geom"),
        ("gml_geom_type", "multipolygon"),
        ("wms_enable_request", "*"),
        ("wfs_enable_request", "*"),
        ("wfs_getfeature_formatlist", "geojson"),
        ("wms_feature_info_mime_type", "text/html"),
        ("wms_style_default_title", layer.title),
        # Chinese field names in GetFeatureInfo (QGIS's identify results); WFS keeps the /ogc names
        *[(f"wms_{p.name}_alias", p.title) for p in layer.properties],
        # booleans stay booleans (auto types would make them integers)
        *[(f"gml_{p.name}_type", "Boolean") for p in layer.properties if p.type == "boolean"],
    ]
    classitem, classes = _classes(layer, font)
    sql = layer_sql(layer)
    lines = [
        "  LAYER",
        f"    NAME {q(layer.id)}",
        "    TYPE POLYGON",
        "    STATUS ON",
        "    CONNECTIONTYPE POSTGIS",
        f"    CONNECTION {q(connection)}",
        f"    DATA {q(f'geom FROM ({sql}) AS t USING UNIQUE {UID} USING SRID=4490')}",
        "    PROCESSING \"CLOSE_CONNECTION=DEFER\"",
        "    ENCODING \"UTF-8\"",
        '    PROJECTION "init=epsg:4490" END',
        f"    HEADER {q(directory / f'{layer.id}_header.html')}",
        f"    TEMPLATE {q(directory / f'{layer.id}.html')}",
        f"    FOOTER {q(directory / f'{layer.id}_footer.html')}",
        "    TOLERANCE 0",
        "    TOLERANCEUNITS PIXELS",
        *_metadata(meta, "    "),
    ]
    if classitem:
        lines.append(f"    CLASSITEM {q(classitem)}")
    lines += classes
    lines.append("  END")
    return lines


def render(connection: str, directory: Path, extent: Sequence[float] = DEFAULT_EXTENT,
           font: Path | None = None) -> str:
    """The mapfile's text: the map, its web services' metadata, output formats and one layer per collection."""
    minx, miny, maxx, maxy = extent
    web_meta: list[tuple[str, object]] = [
        ("ows_title", message("ows_title")),
        ("ows_abstract", message("ows_abstract")),
        ("ows_onlineresource", PLACEHOLDER),
        ("ows_srs", SRS),
        ("ows_enable_request", "*"),
        ("wms_enable_request", "*"),
        ("wfs_enable_request", "*"),
        ("wms_feature_info_mime_type", "text/html"),
        ("wms_getmap_formatlist", "image/png,image/jpeg"),
        ("wfs_getfeature_formatlist", "geojson"),
        ("wfs_compute_number_matched", "true"),
        ("wfs_maxfeatures", "100000"),
        ("ows_encoding", "UTF-8"),
        ("ms_enable_modes", "!*"),  # the OGC services only, none of the old CGI modes
    ]
    lines = [
        "MAP",
        f"  NAME {q(MAP_NAME)}",
        f"  EXTENT {minx} {miny} {maxx} {maxy}",
        "  UNITS DD",
        "  SIZE 800 600",
        "  MAXSIZE 4096",
        "  IMAGECOLOR 255 255 255",
        "  IMAGETYPE png",
        '  PROJECTION "init=epsg:4490" END',
    ]
    if font:
        lines.append(f"  FONTSET {q(directory / 'fonts.txt')}")
    lines += [
        "  OUTPUTFORMAT",
        '    NAME "png"',
        '    DRIVER "AGG/PNG"',
        '    MIMETYPE "image/png"',
        "    IMAGEMODE RGBA",
        '    EXTENSION "png"',
        '    FORMATOPTION "GAMMA=0.75"',
        "  END",
        "  OUTPUTFORMAT",
        '    NAME "jpeg"',
        '    DRIVER "AGG/JPEG"',
        '    MIMETYPE "image/jpeg"',
        "    IMAGEMODE RGB",
        '    EXTENSION "jpg"',
        "  END",
        "  OUTPUTFORMAT",
        '    NAME "geojson"',
        '    DRIVER "OGR/GEOJSON"',
        '    MIMETYPE "application/json; subtype=geojson"',
        '    FORMATOPTION "STORAGE=stream"',
        '    FORMATOPTION "FORM=SIMPLE"',
        '    FORMATOPTION "USE_FEATUREID=true"',
        "  END",
        "  WEB",
        *_metadata(web_meta, "    "),
        "  END",
        "  LEGEND",
        "    KEYSIZE 20 12",
        "    KEYSPACING 6 4",
    ]
    if font:
        lines += ["    LABEL", "      TYPE TRUETYPE", f"      FONT {q(FONT_NAME)}", "      SIZE 9",
                  "      COLOR 31 41 51", "    END"]
    lines.append("  END")
    for layer in collections().values():
        lines += _layer(layer, connection, directory, font is not None)
    lines.append("END")
    return "\n".join(lines) + "\n"


def config_text(directory: Path, mapfile: Path) -> str:
    """MapServer 8's config file: only this directory's mapfile may be loaded."""
    pattern = "^" + re.escape(str(directory)) + "/"
    return "\n".join([
        "CONFIG",
        "  ENV",
        f"    MS_MAP_PATTERN {q(pattern)}",
        f"    MS_MAPFILE {q(mapfile)}",
        "  END",
        "END",
        "",
    ])


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def write(directory: Path, connection: str, extent: Sequence[float] = DEFAULT_EXTENT) -> Files:
    """Write the mapfile, its templates, fontset and config into ``directory`` (made 0700)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    font = find_font()
    if font is not None:
        _write_private(directory / "fonts.txt", f"{FONT_NAME} {font}\n")
    for layer in collections().values():
        _write_private(directory / f"{layer.id}.html", _template(layer))
        _write_private(directory / f"{layer.id}_header.html", _html_page("header", layer))
        _write_private(directory / f"{layer.id}_footer.html", _html_page("footer", layer))
    mapfile = directory / f"{MAP_NAME}.map"
    _write_private(mapfile, render(connection, directory, extent, font))
    config = directory / "mapserver.conf"
    _write_private(config, config_text(directory, mapfile))
    return Files(directory, mapfile, config)
