"""The staging service shared by the API and the CLI: file on disk → upload record + staged features.

    read (read.py) → CRS (spatial.resolve_crs) → mapping (mapping.py)
      → validate (validate.py, reading the stored data it needs through lookup.py) → store (store.py)

:func:`recheck` runs the same steps again on the file a staged upload keeps, with the mapping
the clerk changed in the browser.

Everything that needs the database happens in one transaction at the end, so
a refused file leaves nothing behind; the temporary folder is the caller's
and is removed by it.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pyproj import CRS
from pyproj.exceptions import CRSError
from sqlalchemy import select
from sqlalchemy.orm import Session

import spatial

from ..core.uow import unit_of_work
from ..errors import Conflict, FieldError, Forbidden, InvalidUpload, NotFound
from ..messages import message
from .models import Upload, UploadStatus, UploadTarget
from . import mapping as mapping_mod
from .lookup import DbLookup
from .read import Limits, RawLayer, bounds_xy, open_upload
from .store import clear_staged, get_upload, read_source, update_problems, when_text, write_source, write_staged
from .validate import Staged, counts_of, finish_overlaps, validate

# Lon/lat box of mainland China with islands: a CRS that puts the data outside it is the wrong CRS.
CHINA_BBOX = (73.0, 3.0, 136.0, 54.0)

Progress = Callable[[str, int, int], None]


def _noop(_phase: str, _done: int, _total: int) -> None:
    return None


@dataclass(frozen=True)
class StageRequest:
    path: Path
    filename: str
    workdir: Path
    limits: Limits
    uploader: str = "anonymous"
    target: str = "parcels"
    layer: str | None = None
    crs: str | None = None
    encoding: str | None = None
    mapping: dict | None = None
    keep_source: bool = True  # keep the file for a re-check (the API); the CLI commits at once


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class CrsDecision:
    source: int | str  # for spatial.reproject
    epsg: int | None
    origin: str  # prj / format / guess / override
    info: dict


def decide_crs(raw: RawLayer, override: str | None) -> CrsDecision:
    """The layer's CRS: the clerk's override (checked against the coordinates), the .prj, or the guess."""
    xs, ys = bounds_xy(raw.geometries())
    if override:
        text = override.strip()
        try:
            crs = CRS.from_user_input(int(text) if text.isdigit() else text)
        except CRSError:
            raise _refuse("upload_crs_unknown_name", code="invalid_crs", field="crs", value=override) from None
        epsg = crs.to_epsg(min_confidence=70)
        source: int | str = epsg if epsg is not None else crs.to_wkt()
        if xs.size and not _plausible(source, xs, ys):
            guess = spatial.guess_crs(xs, ys)
            raise _refuse("upload_crs_mismatch", code="crs_mismatch", field="crs", value=override,
                          guess=guess.explanation_zh)
        info = {"epsg": epsg, "name": crs.name, "confidence": "high", "confidence_zh": "高",
                "explanation_zh": message("upload_crs_override", name=crs.name, epsg=epsg or "无")}
        return CrsDecision(source, epsg, "override", info)

    from_prj = spatial.crs_from_prj(raw.crs_text) if raw.crs_text else None
    guess = spatial.resolve_crs(raw.crs_text, xs, ys)
    if guess.axis_swapped:
        raise _refuse("upload_crs_swapped", code="crs_axis_swapped", field="crs", explanation=guess.explanation_zh)
    if guess.source is None:
        raise _refuse("upload_crs_required", code="crs_required", field="crs", status=422,
                      explanation=guess.explanation_zh)
    origin = raw.crs_text_source if from_prj is not None and guess == from_prj else "guess"
    info = guess.to_dict()
    info["name"] = CRS.from_user_input(guess.source).name
    if origin == "guess" and raw.crs_text and raw.format == "geojson" and "4326" in str(raw.crs_text):
        info["explanation_zh"] = message("upload_geojson_not_degrees") + info["explanation_zh"]
    return CrsDecision(guess.source, guess.epsg, origin, info)


def _plausible(source: int | str, xs: np.ndarray, ys: np.ndarray) -> bool:
    try:
        lon, lat = spatial.transformer(source, spatial.STORAGE_SRID).transform(xs, ys)
    except Exception:  # noqa: BLE001 - any PROJ failure means "not this CRS"
        return False
    lon, lat = np.asarray(lon), np.asarray(lat)
    inside = (lon >= CHINA_BBOX[0]) & (lon <= CHINA_BBOX[2]) & (lat >= CHINA_BBOX[1]) & (lat <= CHINA_BBOX[3])
    return bool(inside.mean() >= 0.95)


def _refuse(key: str, *, code: str, field: str, status: int = 400, **values) -> InvalidUpload:
    text = message(key, **values)
    return InvalidUpload(text, [FieldError(field, text)], code=code, status_code=status)


def remembered_mapping(session: Session, fields: list[str], target: str) -> dict | None:
    """The mapping last used for a file with exactly these fields (the clerk's edits are remembered)."""
    signature = "|".join(sorted(fields))
    row = session.execute(
        select(Upload.mapping).where(Upload.options["fields_signature"].astext == signature,
                                     Upload.target == UploadTarget(target), Upload.options["mapping_edited"].astext == "true")
        .order_by(Upload.created_at.desc()).limit(1)
    ).scalar_one_or_none()
    return row


def stage(session: Session, req: StageRequest, *, file_sha256: str | None = None, upload_id: uuid.UUID | None = None,
          progress: Progress = _noop) -> Upload:
    """Read, check and stage a file; returns the committed upload record (status ``staged``).

    A mapping that leaves a required field open (no 宗地编号 found) is staged too: every feature then
    carries 字段未对应, and the report offers the file's fields that may be it, so the clerk picks one
    and checks again (:func:`recheck`) without sending the file again — it is kept while the upload
    is staged (``req.keep_source``).
    """
    if req.target not in ("parcels", "blocks", "parks"):
        raise _refuse("upload_target_unknown", code="invalid_target", field="target", value=req.target)
    progress("reading", 0, 0)
    raw = open_upload(req.path, req.filename, req.workdir, req.limits, layer=req.layer, encoding=req.encoding,
                      target=req.target)
    progress("reading", raw.count, raw.count)
    crs = decide_crs(raw, req.crs)
    sha = file_sha256 or sha256_of(req.path)
    with unit_of_work(session):
        remembered = remembered_mapping(session, raw.fields, req.target) if not req.mapping else None
        mapping = mapping_mod.resolve(raw.fields, req.target, req.mapping, remembered)
        staged: Staged = validate(raw, crs.source, mapping, DbLookup(session), target=req.target, progress=progress,
                                  defer_overlaps=True)
        previous = session.execute(
            select(Upload.id, Upload.committed_at).where(Upload.file_sha256 == sha,
                                                         Upload.status == UploadStatus.COMMITTED)
            .order_by(Upload.committed_at.desc()).limit(1)
        ).first()
        upload = Upload(
            id=upload_id or uuid.uuid4(), uploader=req.uploader[:64], filename=req.filename[:255], file_sha256=sha,
            file_size_bytes=req.path.stat().st_size, target=UploadTarget(req.target), format=raw.format,
            layer=raw.layer, layers=raw.layers, encoding=raw.encoding, encoding_source=raw.encoding_source,
            crs_epsg=crs.epsg, crs=crs.info, crs_source=crs.origin, crs_confirmed=crs.origin != "guess",
            mapping=mapping, counts={}, status=UploadStatus.STAGED, progress=None, revision=0,
            options={
                **_checked_options(raw, staged, mapping_edited=bool(req.mapping) or bool(remembered)),
                "mapping_remembered": bool(remembered),
                "previous_upload": str(previous[0]) if previous else None,
                # what the clerk asked for, so that a re-check reads the file the same way
                "requested": {"layer": req.layer, "crs": req.crs, "encoding": req.encoding},
            },
        )
        existing = session.get(Upload, upload.id)
        if existing is not None:  # async mode: the record was created before staging began
            # COPY the features before touching the upload row: the progress callback updates that
            # row from its own session, and would wait forever on a row this transaction had locked.
            _write(session, existing.id, staged, progress)
            upload.counts = counts_of(staged)
            for key in ("filename", "file_sha256", "file_size_bytes", "format", "layer", "layers", "encoding",
                        "encoding_source", "crs_epsg", "crs", "crs_source", "crs_confirmed", "mapping", "counts",
                        "status", "progress", "options", "revision"):
                setattr(existing, key, getattr(upload, key))
            upload = existing
            session.flush()
        else:
            session.add(upload)
            session.flush()
            _write(session, upload.id, staged, progress)
            upload.counts = counts_of(staged)
        if req.keep_source:
            write_source(session, upload.id, req.path)
    return upload


def _checked_options(raw: RawLayer, staged: Staged, *, mapping_edited: bool) -> dict:
    """What a check leaves in ``uploads.options``: the file's fields and samples, the notes …"""
    return {
        "fields": raw.fields,
        "fields_signature": "|".join(sorted(raw.fields)),
        "mapping_edited": mapping_edited,
        "samples": raw.samples(),
        "geometry_type": raw.geometry_type,
        "area_unit": staged.area_unit,
        "notes": raw.notes + staged.notes,
    }


@dataclass(frozen=True)
class RecheckRequest:
    """Check a staged upload again with another mapping (``PUT /api/uploads/{id}/mapping``)."""

    upload_id: uuid.UUID
    mapping: dict  # model field -> source field; None unmaps; fields not named keep their source
    workdir: Path
    limits: Limits
    actor: str  # the logged-in user: only the uploader, or an admin, may change the mapping
    actor_is_admin: bool = False
    revision: int | None = None  # the report's revision the clerk looked at (If-Match), when given


def require_readable(session: Session, upload_id: uuid.UUID, *, actor: str, actor_is_admin: bool) -> None:
    """Only its uploader and admins may read (or commit) an upload; to anyone else it does not exist (404),
    since the report shows another clerk's file: names, figures and shapes not yet in the database."""
    upload = get_upload(session, upload_id)
    if not (actor_is_admin or upload.uploader == actor):
        raise NotFound(message("not_found", what=message("upload_record", id=upload_id)))


def recheck(session: Session, req: RecheckRequest) -> Upload:
    """Check a staged upload again from the file it keeps, with the mapping changed; all of it or nothing.

    The file is read the way it was at upload (same layer, encoding and CRS requests); the staged
    features, the report's counts and notes are replaced and the report's revision goes up by one.
    """
    with unit_of_work(session):
        upload = get_upload(session, req.upload_id, lock=True)
        if not (req.actor_is_admin or upload.uploader == req.actor):
            text = message("upload_not_yours", uploader=upload.uploader)
            raise Forbidden(text, [FieldError("id", text)])
        if upload.status == UploadStatus.COMMITTED:
            raise Conflict(message("upload_committed_recheck", when=when_text(upload.committed_at)))
        if upload.status != UploadStatus.STAGED:
            raise Conflict(message("upload_not_staged_recheck", status=status_label(upload.status)))
        if req.revision is not None and req.revision != upload.revision:
            text = message("upload_stale", sent=req.revision, current=upload.revision)
            raise Conflict(text, [FieldError("If-Match", text)])
        path = req.workdir / "upload.bin"
        if not read_source(session, upload.id, path, upload.file_size_bytes):
            raise InvalidUpload(message("upload_source_lost"), [FieldError("id", message("upload_source_lost"))],
                                code="upload_source_lost", status_code=409)
        requested = (upload.options or {}).get("requested") or {}
        target = upload.target.value
        # the layer as the clerk asked (none: recognised again, with the same notice) or, for an upload
        # staged before requests were kept, the layer it was read from
        layer = requested.get("layer") if "layer" in requested else upload.layer
        raw = open_upload(path, upload.filename, req.workdir, req.limits, layer=layer,
                          encoding=requested.get("encoding"), target=target)
        crs = decide_crs(raw, requested.get("crs"))
        mapping = mapping_mod.resolve(raw.fields, target, req.mapping, base=upload.mapping or {})
        staged = validate(raw, crs.source, mapping, DbLookup(session), target=target, defer_overlaps=True)
        clear_staged(session, upload.id)
        _write(session, upload.id, staged, _noop)
        upload.mapping = mapping
        upload.counts = counts_of(staged)
        upload.crs_epsg, upload.crs, upload.crs_source = crs.epsg, crs.info, crs.origin
        upload.crs_confirmed = upload.crs_confirmed or crs.origin != "guess"
        upload.options = {**(upload.options or {}), **_checked_options(raw, staged, mapping_edited=True),
                          "mapping_remembered": False}
        upload.revision = (upload.revision or 0) + 1
        session.flush()
    return upload


def status_label(status: UploadStatus) -> str:
    return message(f"upload_status_{status.value}")


def _write(session: Session, upload_id: uuid.UUID, staged: Staged, progress: Progress) -> None:
    """COPY the rows while the overlap check may still run on the other core, then add its findings."""
    write_staged(session, upload_id, staged, progress)
    update_problems(session, upload_id, staged, finish_overlaps(staged))
