"""① Read: an uploaded file on disk → one layer's geometries (WKB) and decoded attributes.

Everything happens inside the upload's own temporary folder. Zips are opened
with the standard library and extracted member by member after every entry has
been checked (absolute paths, ``..``, symlinks, encryption, sizes and
compression ratios); shapefile parts are then checked for completeness and
truncation before GDAL (through pyogrio) reads them, so each broken file gets a
sentence that says what is wrong rather than a GDAL error.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
import os
import re
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError

from ..errors import FieldError, InvalidUpload
from ..messages import message
from .mapping import suggest

MAGIC_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
MAGIC_SQLITE = b"SQLite format 3\x00"
SHAPE_PARTS = {".shp", ".shx", ".dbf", ".prj", ".cpg"}
DATA_SUFFIXES = SHAPE_PARTS | {".gpkg", ".geojson", ".json", ".csv"}
# The columns a CSV's geometry is read from, as WKT (the service's CSV export writes WKT).
CSV_GEOMETRY_COLUMNS = ("WKT", "geometry", "geom", "the_geom")
# Members smaller than this are never called bombs, whatever their ratio (an empty .dbf compresses 500×).
RATIO_FLOOR_BYTES = 1 << 20
CHUNK = 1 << 20
SAMPLE_ROWS = 5
# Windows code-page numbers and names that ArcGIS / QGIS write into .cpg files.
_CPG_ALIASES = {"936": "gbk", "ansi 936": "gbk", "65001": "utf-8", "utf8": "utf-8", "ansi 1252": "cp1252",
                "1252": "cp1252", "54936": "gb18030", "950": "big5", "gb2312": "gbk", "system": ""}


@dataclass(frozen=True)
class Limits:
    """Caps for one upload (from Settings): unpacked total, compression ratio, number of zip entries."""

    max_unpacked_bytes: int
    max_ratio: float
    max_members: int = 10_000


@dataclass
class Candidate:
    """A layer the file offers: a shapefile (any folder depth), a GeoPackage layer, a GeoJSON or a CSV file."""

    name: str  # as shown to the clerk: the path inside the zip, or the GeoPackage layer name
    kind: str  # shapefile / gpkg / geojson / csv
    path: Path
    layer: str | None = None  # GeoPackage layer name
    parts: dict[str, Path] = field(default_factory=dict)  # shapefile: suffix -> extracted file


@dataclass
class RawLayer:
    """One layer as read: WKB geometries, decoded attribute columns and what was detected."""

    format: str
    layer: str
    layers: list[str]
    encoding: str | None
    encoding_source: str | None  # cpg / detected / override / format
    crs_text: str | None  # .prj contents or the CRS GDAL reports
    crs_text_source: str | None  # prj / format
    geometry_type: str | None
    fields: list[str]
    columns: list[np.ndarray]
    wkb: np.ndarray
    notes: list[dict] = field(default_factory=list)  # upload-level notices: which layer was taken, rows left out
    _geoms: np.ndarray | None = field(default=None, repr=False)

    @property
    def count(self) -> int:
        return len(self.wkb)

    def geometries(self) -> np.ndarray:
        """The WKB parsed once (CRS detection and validation both need it); unparseable → None."""
        if self._geoms is None:
            self._geoms = shapely.from_wkb(self.wkb, on_invalid="ignore")
        return self._geoms

    def samples(self, rows: int = SAMPLE_ROWS) -> list[dict]:
        """The first rows, decoded, for the clerk to confirm the encoding."""
        out = []
        for i in range(min(rows, self.count)):
            out.append({name: _jsonable(col[i]) for name, col in zip(self.fields, self.columns)})
        return out


def _jsonable(value):
    if value is None:
        return None
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, bytes):
        return value.hex()
    return value if isinstance(value, (str, int, bool)) else str(value)


def _refuse(key: str, *, code: str, field_name: str | None = "file", status: int = 400, **values) -> InvalidUpload:
    text = message(key, **values)
    return InvalidUpload(text, [FieldError(field_name, text)], code=code, status_code=status)


# --- format sniffing --------------------------------------------------------

def sniff(path: Path, filename: str) -> str:
    """zip / gpkg / geojson from the first bytes; the name only words the refusal."""
    with path.open("rb") as fh:
        head = fh.read(64)
    if head.startswith(MAGIC_ZIP):
        return "zip"
    if head.startswith(MAGIC_SQLITE):
        return "gpkg"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        return "geojson"
    suffix = PurePosixPath(filename.lower()).suffix
    if not head:
        raise _refuse("upload_empty_file", code="empty_file", name=filename)
    if suffix == ".csv":
        return "csv"
    if suffix == ".zip":
        raise _refuse("upload_not_a_zip", code="not_a_zip", name=filename)
    if suffix in SHAPE_PARTS:
        raise _refuse("upload_bare_shapefile", code="shapefile_not_zipped", name=filename)
    if suffix in (".gpkg", ".geojson", ".json"):
        raise _refuse("upload_bad_content", code="unreadable_file", name=filename, kind=suffix[1:])
    raise _refuse("upload_unsupported_format", code="unsupported_format", name=filename)


# --- zips -------------------------------------------------------------------

def member_name(info: zipfile.ZipInfo) -> str:
    """The entry's name as the sender saw it: UTF-8 when flagged, else UTF-8 or GBK (Windows zips)."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        raw = info.filename.encode("cp437")  # zipfile decoded the raw bytes as CP437
    except UnicodeEncodeError:
        return info.filename
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _check_member(info: zipfile.ZipInfo, name: str) -> None:
    clean = name.replace("\\", "/")
    if clean.startswith("/") or re.match(r"^[A-Za-z]:", clean):
        raise _refuse("upload_zip_absolute", code="zip_unsafe_path", name=name)
    if ".." in clean.split("/"):
        raise _refuse("upload_zip_slip", code="zip_unsafe_path", name=name)
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise _refuse("upload_zip_symlink", code="zip_symlink", name=name)
    if info.flag_bits & 0x1:
        raise _refuse("upload_zip_encrypted", code="zip_encrypted", name=name)


def _is_noise(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return parts[0] == "__MACOSX" or parts[-1].startswith("._") or name.endswith("/")


def extract_zip(path: Path, dest: Path, limits: Limits) -> list[Candidate]:
    """Check every entry, then extract the data files into ``dest``; return the layers found.

    Files are written under generated ASCII names (``dest/<n>/<m><suffix>``), so
    neither the entry names nor their encoding ever reach the file system.
    """
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _refuse("upload_zip_corrupt", code="zip_corrupt", name=path.name) from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_members:
            raise _refuse("upload_zip_too_many", code="zip_bomb", count=len(infos), max=limits.max_members,
                          status=413)
        named = [(info, member_name(info)) for info in infos]
        for info, name in named:
            _check_member(info, name)
        wanted = [(i, n) for i, n in named if not _is_noise(n) and PurePosixPath(n.lower()).suffix in DATA_SUFFIXES]
        declared = sum(i.file_size for i, _ in wanted)
        if declared > limits.max_unpacked_bytes:
            raise _refuse("upload_zip_bomb_total", code="zip_bomb", status=413,
                          size_mb=round(declared / 2**20, 1), max_mb=round(limits.max_unpacked_bytes / 2**20))
        for info, name in wanted:
            if info.file_size > RATIO_FLOOR_BYTES and info.file_size > limits.max_ratio * max(info.compress_size, 1):
                raise _refuse("upload_zip_bomb_ratio", code="zip_bomb", status=413, name=name,
                              ratio=round(info.file_size / max(info.compress_size, 1)), max=round(limits.max_ratio))

        groups: dict[tuple[str, str], dict[str, tuple[zipfile.ZipInfo, str]]] = {}
        for info, name in wanted:
            p = PurePosixPath(name.replace("\\", "/"))
            groups.setdefault((str(p.parent), p.stem.lower()), {})[p.suffix.lower()] = (info, name)

        total = 0
        candidates: list[Candidate] = []
        for n, (_key, parts) in enumerate(sorted(groups.items())):
            folder = dest / str(n)
            folder.mkdir(parents=True)
            written: dict[str, Path] = {}
            for suffix, (info, name) in parts.items():
                target = folder / f"data{suffix}"
                total = _copy_member(zf, info, name, target, total, limits)
                written[suffix] = target
            if ".shp" in parts:
                candidates.append(Candidate(parts[".shp"][1], "shapefile", written[".shp"], parts=written))
            elif ".gpkg" in parts:
                candidates.extend(gpkg_candidates(written[".gpkg"], prefix=parts[".gpkg"][1]))
            elif ".geojson" in parts or ".json" in parts:
                suffix = ".geojson" if ".geojson" in parts else ".json"
                candidates.append(Candidate(parts[suffix][1], "geojson", written[suffix]))
            elif ".csv" in parts and csv_has_geometry(written[".csv"]):  # other tables are no layers
                candidates.append(Candidate(parts[".csv"][1], "csv", written[".csv"]))
            elif ".dbf" in parts or ".shx" in parts:
                some = next(iter(parts.values()))[1]
                stem = str(PurePosixPath(some.replace("\\", "/")).with_suffix(""))
                raise _refuse("upload_shapefile_missing_part", code="shapefile_incomplete", name=f"{stem}.shp",
                              part=".shp", what=message("upload_part_shp"), field_name="layer")
    if not candidates:
        raise _refuse("upload_zip_no_data", code="no_layer")
    return candidates


def _copy_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, target: Path, total: int,
                 limits: Limits) -> int:
    """Stream one entry to disk, counting real bytes: declared sizes in a hostile zip can lie."""
    size = 0
    try:
        with zf.open(info) as src, target.open("wb") as out:
            while chunk := src.read(CHUNK):
                size += len(chunk)
                total += len(chunk)
                if total > limits.max_unpacked_bytes:
                    raise _refuse("upload_zip_bomb_total", code="zip_bomb", status=413,
                                  size_mb=round(total / 2**20, 1), max_mb=round(limits.max_unpacked_bytes / 2**20))
                if size > RATIO_FLOOR_BYTES and size > limits.max_ratio * max(info.compress_size, 1):
                    raise _refuse("upload_zip_bomb_ratio", code="zip_bomb", status=413, name=name,
                                  ratio=round(size / max(info.compress_size, 1)), max=round(limits.max_ratio))
                out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError):
        raise _refuse("upload_zip_member_corrupt", code="zip_corrupt", name=name) from None
    return total


def gpkg_candidates(path: Path, prefix: str | None = None) -> list[Candidate]:
    try:
        layers = pyogrio.list_layers(path)
    except (DataSourceError, DataLayerError, OSError):
        raise _refuse("upload_bad_content", code="unreadable_file", name=prefix or path.name, kind="gpkg") from None
    out = []
    for name, geometry_type in layers:
        if geometry_type is None:  # attribute-only tables
            continue
        shown = f"{prefix}:{name}" if prefix else str(name)
        out.append(Candidate(shown, "gpkg", path, layer=str(name)))
    if not out:
        raise _refuse("upload_gpkg_no_layer", code="no_layer", name=prefix or path.name)
    return out


def choose(candidates: list[Candidate], layer: str | None, target: str = "parcels") -> tuple[Candidate, dict | None]:
    """The layer the clerk asked for, and the notice to show when it was picked without being asked for.

    Several layers and none asked for: the one that is recognisably the ``target``'s (see
    :func:`recognised`) is taken, with a notice; otherwise a refusal listing them.
    """
    names = [c.name for c in candidates]
    if layer is None or layer == "":
        if len(candidates) == 1:
            return candidates[0], None
        found = recognised(candidates, target)
        if found is not None:
            key = "upload_layer_chosen_blocks" if target == "blocks" else "upload_layer_chosen"
            return found, {"code": "layer_chosen", "severity": "info", "layer": found.name, "message": message(
                key, count=len(names), names="、".join(names), layer=found.name)}
        raise InvalidUpload(
            message("upload_layer_required", count=len(names), names="、".join(names)),
            [FieldError("layer", message("upload_layer_choices", names="、".join(names)), choices=names)],
            code="layer_required", status_code=422,
        )
    exact = [c for c in candidates if c.name == layer or c.layer == layer]
    if len(exact) == 1:
        return exact[0], None

    def short(c: Candidate) -> set[str]:
        p = PurePosixPath(c.name.replace("\\", "/"))
        return {p.name, p.stem, c.layer or p.stem}

    loose = [c for c in candidates if layer in short(c)]
    if len(loose) == 1:
        return loose[0], None
    raise InvalidUpload(
        message("upload_layer_unknown", layer=layer, names="、".join(names)),
        [FieldError("layer", message("upload_layer_choices", names="、".join(names)), choices=names)],
        code="layer_unknown", status_code=422,
    )


# The service's own block exports name their layers ``<区块编号>_宗地`` and ``<区块编号>_区块``.
_OWN_LAYER_SUFFIX = {"parcels": "宗地", "blocks": "区块"}
# Parcel fields no block layer has: a layer whose columns map to a code and one of these is a parcel layer.
_PARCEL_ONLY = {"enterprise", "credit_code", "floor_area_m2", "planned_floor_area_m2", "land_use", "classification",
                "renewal_mode", "renewal_type", "status"}
RECOGNISE_MAX_LAYERS = 50  # the columns of at most this many layers are looked at


def _stem(c: Candidate) -> str:
    return c.layer if c.layer is not None else PurePosixPath(c.name.replace("\\", "/")).stem


def recognised(candidates: list[Candidate], target: str) -> Candidate | None:
    """The one layer that is recognisably the ``target``'s, or None.

    First by name (the service's own ``<区块编号>_宗地`` / ``…_区块``); failing that, by columns: for parcels
    the only layer whose columns map to a 宗地编号 and to a parcel attribute (企业, 建筑面积, 分类 …);
    for blocks the only one whose columns map to a 区块编号 and a 区块名称.
    """
    suffix = _OWN_LAYER_SUFFIX.get(target)
    if suffix is None:
        return None
    by_name = [c for c in candidates if _stem(c).endswith(f"_{suffix}")]
    if len(by_name) == 1:
        return by_name[0]
    if len(candidates) > RECOGNISE_MAX_LAYERS:
        return None

    def fits(c: Candidate) -> bool:
        mapped = set(suggest(candidate_fields(c), target))
        if target == "blocks":
            return {"code", "name"} <= mapped
        return "code" in mapped and bool(mapped & _PARCEL_ONLY)

    by_columns = [c for c in (by_name or candidates) if fits(c)]
    return by_columns[0] if len(by_columns) == 1 else None


def candidate_fields(c: Candidate) -> list[str]:
    """A layer's field names, read cheaply (a shapefile's from its .dbf header); [] when unreadable."""
    try:
        if c.kind == "shapefile":
            if ".dbf" not in c.parts:
                return []
            enc = None
            if ".cpg" in c.parts and _read_text(c.parts[".cpg"]).strip():
                enc = normalise_encoding(_read_text(c.parts[".cpg"]), field_name="layer")
            return _dbf_field_names(c.parts[".dbf"], enc)
        return [str(f) for f in pyogrio.read_info(_gdal_path(c.path, c.kind), layer=c.layer)["fields"]]
    except (InvalidUpload, DataSourceError, DataLayerError, OSError, ValueError, RuntimeError, struct.error):
        return []


def _dbf_field_names(path: Path, encoding: str | None) -> list[str]:
    with path.open("rb") as fh:
        head = fh.read(32)
        header_len = struct.unpack("<H", head[8:10])[0]
        descriptors = fh.read(max(header_len - 32, 0))
    raw = []
    for k in range(0, len(descriptors) - 31, 32):
        if descriptors[k] == 0x0D:
            break
        raw.append(descriptors[k:k + 11].split(b"\x00", 1)[0])
    for enc in ([encoding] if encoding else []) + ["utf-8", "gbk", "gb18030"]:
        try:
            return [r.decode(enc).strip() for r in raw]
        except UnicodeDecodeError:
            continue
    return [r.decode("latin-1").strip() for r in raw]


# --- shapefile checks -------------------------------------------------------

def _shp_header_length(path: Path) -> tuple[int, int] | None:
    """(declared length in bytes, actual size) of a .shp / .shx, or None when the header itself is bad."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(100)
    if len(head) < 4 or struct.unpack(">i", head[:4])[0] != 9994:
        return None
    if len(head) < 100:  # cut inside the 100-byte header itself
        return 100, size
    return struct.unpack(">i", head[24:28])[0] * 2, size


def check_shapefile(c: Candidate) -> None:
    """Refuse a shapefile whose .shx or .dbf is missing, or whose parts are truncated or disagree."""
    stem = str(PurePosixPath(c.name.replace("\\", "/")).with_suffix(""))
    for suffix, what in ((".shx", message("upload_part_shx")), (".dbf", message("upload_part_dbf"))):
        if suffix not in c.parts:
            raise _refuse("upload_shapefile_missing_part", code="shapefile_incomplete", name=c.name,
                          part=suffix, what=what, field_name="layer")
    for suffix in (".shp", ".shx"):
        got = _shp_header_length(c.parts[suffix])
        if got is None:
            raise _refuse("upload_shapefile_bad_header", code="shapefile_corrupt", name=f"{stem}{suffix}",
                          field_name="layer")
        declared, actual = got
        if actual < declared:
            raise _refuse("upload_shapefile_truncated", code="shapefile_truncated", name=f"{stem}{suffix}",
                          actual=actual, declared=declared, field_name="layer")
    dbf = c.parts[".dbf"]
    with dbf.open("rb") as fh:
        head = fh.read(32)
    if len(head) < 32:
        raise _refuse("upload_shapefile_bad_header", code="shapefile_corrupt", name=f"{stem}.dbf", field_name="layer")
    records, header_len, record_len = struct.unpack("<IHH", head[4:12])
    declared = header_len + records * record_len
    actual = dbf.stat().st_size
    if actual < declared:
        raise _refuse("upload_shapefile_truncated", code="shapefile_truncated", name=f"{stem}.dbf",
                      actual=actual, declared=declared, field_name="layer")
    shx_records = (c.parts[".shx"].stat().st_size - 100) // 8
    if shx_records != records:
        raise _refuse("upload_shapefile_count_mismatch", code="shapefile_corrupt", name=c.name,
                      shx=shx_records, dbf=records, field_name="layer")


# --- encodings --------------------------------------------------------------

def normalise_encoding(name: str, field_name: str = "encoding") -> str:
    """A Python codec name for what a .cpg or the clerk says (936 → gbk, 65001 → utf-8 …)."""
    key = name.strip().lower()
    key = _CPG_ALIASES.get(key, key)
    try:
        return codecs.lookup(key).name
    except LookupError:
        raise _refuse("upload_encoding_unknown_name", code="invalid_encoding", field_name=field_name,
                      value=name) from None


def _decodes(chunks, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        for chunk in chunks:
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _dbf_text_chunks(path: Path):
    """Field names and records of a .dbf (the parts that carry text), in chunks."""
    with path.open("rb") as fh:
        head = fh.read(32)
        header_len = struct.unpack("<H", head[8:10])[0]
        descriptors = fh.read(max(header_len - 32, 0))
        for k in range(0, len(descriptors) - 31, 32):
            if descriptors[k] == 0x0D:
                break
            yield descriptors[k:k + 11].split(b"\x00", 1)[0]
        while chunk := fh.read(CHUNK):
            yield chunk


def detect_encoding(chunks_factory) -> str | None:
    """UTF-8 when the bytes decode strictly as UTF-8 (ASCII included), else GBK, else GB18030 (its superset).

    UTF-8 goes first: GBK text almost never forms valid multi-byte UTF-8, while
    UTF-8 text often is valid GBK (of the wrong characters).
    """
    for encoding in ("utf-8", "gbk", "gb18030"):
        if _decodes(chunks_factory(), encoding):
            return encoding
    return None


def _file_chunks(path: Path):
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


# --- reading ----------------------------------------------------------------

def read_candidate(c: Candidate, layers: list[str], workdir: Path, encoding: str | None,
                   target: str = "parcels") -> RawLayer:
    """Read one layer fully (geometries as WKB, attributes decoded); refusals say what is wrong."""
    crs_text = None
    crs_source = None
    source = "format"
    if c.kind == "shapefile":
        check_shapefile(c)
        if encoding:
            enc, source = normalise_encoding(encoding), "override"
        elif ".cpg" in c.parts and _read_text(c.parts[".cpg"]).strip():
            enc, source = normalise_encoding(_read_text(c.parts[".cpg"]), field_name="layer"), "cpg"
        else:
            enc, source = detect_encoding(lambda: _dbf_text_chunks(c.parts[".dbf"])), "detected"
            if enc is None:
                raise _refuse("upload_encoding_undetected", code="encoding_undetected", field_name="encoding",
                              name=c.name)
        if ".prj" in c.parts:
            crs_text, crs_source = _read_text(c.parts[".prj"]), "prj"
        path, layer = c.path, None
    elif c.kind in ("geojson", "csv"):
        enc = normalise_encoding(encoding) if encoding else detect_encoding(lambda: _file_chunks(c.path))
        source = "override" if encoding else "detected"
        if enc is None:
            raise _refuse("upload_encoding_undetected", code="encoding_undetected", field_name="encoding", name=c.name)
        path, layer = c.path, None
        if enc not in ("utf-8", "ascii"):
            path = workdir / f"transcoded.{c.kind}"
            _transcode(c.path, path, enc)
        if c.kind == "geojson":
            _check_json(path, c.name)
        elif not csv_has_geometry(path):
            raise _refuse("upload_csv_no_geometry", code="unreadable_file", name=c.name,
                          columns="、".join(CSV_GEOMETRY_COLUMNS))
    else:
        enc, source = "utf-8", "format"
        path, layer = c.path, c.layer
    # a CSV's geometry from its WKT column, which is then no attribute
    options = {"GEOM_POSSIBLE_NAMES": ",".join(CSV_GEOMETRY_COLUMNS), "KEEP_GEOM_COLUMNS": "NO"} if (
        c.kind == "csv") else {}
    try:
        meta, _fids, wkb, columns = pyogrio.raw.read(
            _gdal_path(path, c.kind), layer=layer, encoding=enc if c.kind == "shapefile" else None, **options,
        )
    except UnicodeDecodeError:
        raise _refuse("upload_encoding_mismatch", code="encoding_mismatch", field_name="encoding",
                      name=c.name, encoding=enc) from None
    except (DataSourceError, DataLayerError, RuntimeError, OSError, ValueError) as exc:
        raise _refuse("upload_unreadable", code="unreadable_file", name=c.name, reason=_gdal_reason(exc)) from None
    if c.kind != "shapefile" and meta.get("crs"):
        crs_text, crs_source = meta["crs"], "format"
    if len(wkb) == 0:
        raise _refuse("upload_empty_layer", code="empty_layer", field_name="layer", name=c.name)
    fields, columns, wkb = [str(f) for f in meta["fields"]], list(columns), np.asarray(wkb, dtype=object)
    notes = []
    if c.kind == "geojson":
        fields, columns, wkb, note = _own_kinds(fields, columns, wkb, target)
        notes = [note] if note else []
    return RawLayer(
        format=c.kind, layer=c.name, layers=layers, encoding=enc, encoding_source=source,
        crs_text=crs_text, crs_text_source=crs_source, geometry_type=meta.get("geometry_type"),
        fields=fields, columns=columns, wkb=wkb, notes=notes,
    )


# The service's block export as GeoJSON: one collection, the block first, each feature's kind in ``layer``.
KIND_FIELD = "layer"
_KINDS = {"parcels": "parcel", "blocks": "block"}


def _own_kinds(fields: list[str], columns: list[np.ndarray], wkb: np.ndarray, target: str):
    """Of a collection holding blocks and parcels (``layer`` = ``block`` / ``parcel``), the ``target``'s
    features only, without the columns only the others fill; other files unchanged."""
    if KIND_FIELD not in fields or target not in _KINDS:
        return fields, columns, wkb, None
    kinds = np.asarray(columns[fields.index(KIND_FIELD)], dtype=object)
    if set(kinds.tolist()) != set(_KINDS.values()):
        return fields, columns, wkb, None
    keep = kinds == _KINDS[target]
    kept = [(f, col[keep]) for f, col in zip(fields, columns) if not _all_empty(col[keep])]
    what, other = ("upload_what_block", "upload_what_parcel") if target == "blocks" else (
        "upload_what_parcel", "upload_what_block")
    note = {"code": "kinds_split", "severity": "info", "kept": int(keep.sum()), "left": int((~keep).sum()),
            "message": message("upload_kinds_split", kept=int(keep.sum()), left=int((~keep).sum()),
                               what=message(what), other=message(other))}
    return [f for f, _ in kept], [col for _, col in kept], wkb[keep], note


def _all_empty(col: np.ndarray) -> bool:
    if col.dtype.kind == "f":
        return bool(np.isnan(col).all())
    if col.dtype.kind == "O":
        return all(v is None or v == "" or (isinstance(v, float) and math.isnan(v)) for v in col.tolist())
    return False


def _gdal_path(path: Path, kind: str) -> str | Path:
    """A CSV by GDAL's CSV driver whatever the file's name (an upload is kept as ``upload.bin``)."""
    return f"CSV:{path}" if kind == "csv" else path


def csv_has_geometry(path: Path) -> bool:
    """Whether a CSV file's header line names a geometry (WKT) column."""
    with path.open("rb") as fh:
        head = fh.readline(1 << 16)
    text = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = head.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        return False
    wanted = {n.lower() for n in CSV_GEOMETRY_COLUMNS}
    return any(name.strip().strip('"').lower() in wanted for name in next(csv.reader([text]), []))


def _gdal_reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _transcode(src: Path, dst: Path, encoding: str) -> None:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    with src.open("rb") as fin, dst.open("w", encoding="utf-8") as fout:
        while chunk := fin.read(CHUNK):
            fout.write(decoder.decode(chunk))
        fout.write(decoder.decode(b"", final=True))


def _check_json(path: Path, name: str) -> None:
    """Parse-check GeoJSON first: GDAL's message for a cut-off file does not say where it breaks."""
    try:
        with path.open("r", encoding="utf-8-sig") as fh:
            json.load(fh)
    except json.JSONDecodeError as exc:
        raise _refuse("upload_json_broken", code="invalid_json", name=name, line=exc.lineno, column=exc.colno,
                      reason=_JSON_REASONS.get(exc.msg, exc.msg)) from None
    except UnicodeDecodeError:
        raise _refuse("upload_encoding_mismatch", code="encoding_mismatch", field_name="encoding",
                      name=name, encoding="utf-8") from None


_JSON_REASONS = {
    "Expecting value": "此处缺少值",
    "Expecting ',' delimiter": "此处缺少逗号",
    "Expecting ':' delimiter": "此处缺少冒号",
    "Expecting property name enclosed in double quotes": "此处应为带双引号的属性名",
    "Unterminated string starting at": "字符串没有结束",
    "Extra data": "文件结尾有多余内容",
}


def _with_suffix(path: Path, suffix: str) -> Path:
    """The upload under a name GDAL expects for its kind (a hard link beside it): the GeoPackage driver
    warns about any other extension. The path itself when the link cannot be made."""
    named = path.with_suffix(suffix)
    try:
        named.unlink(missing_ok=True)  # a link from an earlier read of this folder: this file's bytes now
        os.link(path, named)
    except OSError:
        return path
    return named


def open_upload(path: Path, filename: str, workdir: Path, limits: Limits, *, layer: str | None = None,
                encoding: str | None = None, target: str = "parcels") -> RawLayer:
    """The whole read step: sniff, unzip safely, pick the layer (the ``target``'s by itself when it is
    recognisable), check and read it."""
    kind = sniff(path, filename)
    if kind == "zip":
        candidates = extract_zip(path, workdir / "unzipped", limits)
    elif kind == "gpkg":
        candidates = gpkg_candidates(_with_suffix(path, ".gpkg"))
    elif kind == "csv":
        candidates = [Candidate(filename, "csv", path)]
    else:
        candidates = [Candidate(filename, "geojson", path)]
    chosen, note = choose(candidates, layer, target)
    raw = read_candidate(chosen, [c.name for c in candidates], workdir, encoding, target)
    if note:
        raw.notes.insert(0, note)
    return raw


def bounds_xy(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """X and Y of every geometry's bounding-box corners (cheap, vectorised) for CRS guessing."""
    present = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)]
    if present.size == 0:
        return np.array([]), np.array([])
    b = shapely.bounds(present)
    return np.concatenate([b[:, 0], b[:, 2]]), np.concatenate([b[:, 1], b[:, 3]])
