"""③ Store: staged features into ``upload_features`` (COPY), and the commit — the whole batch in one transaction.

Only writes, the problem updates and reading back: what validation needs of the stored data is
read on its side (``lookup.py``). Problems arrive as :class:`~app.ingest.problems.Problem` objects
and are stored as JSON (:func:`~app.ingest.problems.dumps`); everything read back from the table
(the commit's blocking check, :func:`problems_json`) works on that JSON.

Bulk path: staged rows carry geometry already in EPSG:4490 and the area / FAR
that ``spatial`` computed from it, so a commit is one ``INSERT … SELECT`` for
new features; no ORM object per feature. Replacements (usually few) go
through the ORM so the ``before_flush`` hook recomputes area and FAR from the
new geometry with the stored floor areas, and the previous row is copied into
``feature_history`` first.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shapely

import spatial
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ..core import audit
from ..core.db import long_statements
from ..core.history import event_source
from ..core.uow import unit_of_work
from ..errors import Conflict, FieldError, InvalidFeatures, InvalidUpload, NotFound
from ..messages import message
from ..models import Parcel, Park, RenewalBlock
from .models import Upload, UploadStatus
from .problems import blocking, dumps
from .validate import Staged

COPY_CHUNK = 5000
ANALYZE_AFTER_ROWS = 10_000
TABLES = {"parcels": "parcels", "blocks": "renewal_blocks", "parks": "parks"}
MODELS = {"parcels": Parcel, "renewal_blocks": RenewalBlock, "parks": Park}
PARCEL_VALUE_COLUMNS = ("floor_area_m2", "planned_floor_area_m2", "land_use", "classification", "renewal_mode",
                        "renewal_type", "status")
BLOCK_VALUE_COLUMNS = ("name", "stage", "designated_year", "planned_far")
PARK_VALUE_COLUMNS = ("name", "kind", "approval", "is_schematic")


# --- staging ------------------------------------------------------------------

def write_staged(session: Session, upload_id: uuid.UUID, staged: Staged,
                 progress: Callable[[str, int, int], None] | None = None) -> None:
    """COPY the staged rows into ``upload_features`` (inside the caller's transaction).

    Rows are laid out in COPY's text format column by column, chunk by chunk
    (bounded memory); geometries go as hex EWKB, Polygons wrapped as one-part
    MultiPolygons at the byte level (the column's type) rather than rebuilt.
    """
    n = len(staged)
    long_statements(session)  # a 200 MB file's COPY outlasts the per-request statement timeout
    raw = session.connection().connection.driver_connection
    cols = ("upload_id, feature_no, code, geom, repaired_geom, area_mu, repaired_area_mu, far, planned_far,"
            " mapped_values, attributes, problems, severity, existing_id, unit_id, block_id, enterprise_id")
    upload = str(upload_id)
    with raw.cursor() as cur, cur.copy(f"COPY upload_features ({cols}) FROM STDIN") as copy:
        for start in range(0, n, COPY_CHUNK):
            stop = min(start + COPY_CHUNK, n)
            part = slice(start, stop)
            problems = staged.problems
            columns = [
                [upload] * (stop - start),
                staged.feature_no[part].astype(str).tolist(),
                _copy_texts(staged.codes[part]),
                _multi_ewkb_hex(staged.geom_4490[part]),
                _multi_ewkb_hex(staged.repaired_4490[part]),
                _copy_numbers(staged.area_mu[part]),
                _copy_numbers(staged.repaired_area_mu[part]),
                _copy_numbers(staged.far[part]),
                _copy_numbers(staged.planned_far[part]),
                _copy_texts(staged.values[part]),
                _copy_texts(staged.attributes[part]),
                _copy_texts([dumps(problems[i]) if i in problems else "[]" for i in range(start, stop)]),
                staged.severity[part].tolist(),
                _copy_ints(staged.existing_id[part]),
                _copy_ints(staged.unit_id[part]),
                _copy_ints(staged.block_id[part]),
                _copy_ints(staged.enterprise_id[part]),
            ]
            copy.write("".join(["\t".join(row) + "\n" for row in zip(*columns)]))
            if progress:
                progress("saving", stop, n)
    if n >= ANALYZE_AFTER_ROWS:
        # Fresh statistics, or the commit's planner thinks the upload has a handful of rows and
        # sorts 100k of them on disk instead of reading them in order from the primary key.
        with raw.cursor() as cur:
            cur.execute("ANALYZE upload_features (upload_id)")


def update_problems(session: Session, upload_id: uuid.UUID, staged: Staged, indices: list[int]) -> None:
    """Rewrite the problems and severity of these staged features (found after their rows were written)."""
    if not indices:
        return
    session.execute(text(
        "UPDATE upload_features f SET problems = x.p::jsonb, severity = x.s"
        " FROM unnest(CAST(:nos AS int[]), CAST(:ps AS text[]), CAST(:ss AS text[])) AS x(no, p, s)"
        " WHERE f.upload_id = :id AND f.feature_no = x.no"),
        {"id": upload_id, "nos": [int(staged.feature_no[i]) for i in indices],
         "ps": [dumps(staged.problems[i]) for i in indices],
         "ss": [str(staged.severity[i]) for i in indices]})


SOURCE_PART_BYTES = 4 << 20  # the kept file is written and read back in parts of 4 MiB (bounded memory)


def write_source(session: Session, upload_id: uuid.UUID, path: Path) -> None:
    """Keep the uploaded file while the upload is staged (``upload_sources``), for a re-check."""
    with path.open("rb") as fh:
        part = 0
        while chunk := fh.read(SOURCE_PART_BYTES):
            session.execute(text("INSERT INTO upload_sources (upload_id, part_no, data) VALUES (:id, :no, :data)"),
                            {"id": upload_id, "no": part, "data": chunk})
            part += 1


def read_source(session: Session, upload_id: uuid.UUID, path: Path, size_bytes: int) -> bool:
    """Write the kept file to ``path``; False when it is gone or incomplete (after a crash: UNLOGGED)."""
    parts = session.execute(text("SELECT part_no, length(data) FROM upload_sources WHERE upload_id = :id"
                                 " ORDER BY part_no"), {"id": upload_id}).all()
    if [p[0] for p in parts] != list(range(len(parts))) or sum(p[1] for p in parts) != size_bytes or not parts:
        return False
    with path.open("wb") as out:
        for no, _length in parts:
            out.write(session.execute(text("SELECT data FROM upload_sources WHERE upload_id = :id AND part_no = :no"),
                                      {"id": upload_id, "no": no}).scalar_one())
    return True


def clear_staged(session: Session, upload_id: uuid.UUID) -> None:
    """Remove an upload's staged features (before it is checked again)."""
    session.execute(text("DELETE FROM upload_features WHERE upload_id = :id"), {"id": upload_id})


COPY_NULL = "\\N"
_MULTI_HEADER = "01" "06000000" "01000000"  # little-endian MultiPolygon with one part, then the Polygon's WKB
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _multi_ewkb_hex(geoms: np.ndarray) -> list[str]:
    """Hex WKB of each geometry as a MultiPolygon (SRID from the column), ``\\N`` where None."""
    out = [COPY_NULL] * len(geoms)
    types = shapely.get_type_id(geoms)
    keep = np.flatnonzero(types >= 0)
    if keep.size:
        # binary WKB then bytes.hex(): GEOS's own hex writer is four times slower
        blobs = shapely.to_wkb(geoms[keep], output_dimension=2, byte_order=1, include_srid=False)
        for k, blob, t in zip(keep.tolist(), blobs.tolist(), types[keep].tolist()):
            out[k] = _MULTI_HEADER + blob.hex() if t == 3 else blob.hex()
    return out


def _copy_texts(values) -> list[str]:
    """Text values escaped for COPY's text format (only when some need it), ``\\N`` for None."""
    joined = "".join(v for v in values if v is not None)
    if "\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined:
        return [COPY_NULL if v is None else v.translate(_COPY_ESCAPES) for v in values]
    return [COPY_NULL if v is None else v for v in values]


def _copy_numbers(values: np.ndarray) -> list[str]:
    return [f"{v:.4f}" if math.isfinite(v) else COPY_NULL for v in np.asarray(values, dtype=float).tolist()]


def _copy_ints(values) -> list[str]:
    return [COPY_NULL if v is None else str(v) for v in values]


# --- reading back ---------------------------------------------------------------

def get_upload(session: Session, upload_id: uuid.UUID, *, lock: bool = False) -> Upload:
    stmt = select(Upload).where(Upload.id == upload_id)
    if lock:
        stmt = stmt.with_for_update()
    upload = session.scalars(stmt).one_or_none()
    if upload is None:
        raise NotFound(message("not_found", what=message("upload_record", id=upload_id)))
    return upload


def problems_json(session: Session, upload_id: uuid.UUID, *, limit: int | None = None) -> bytes:
    """Every problem of every feature (JSON array, in feature order), built in PostgreSQL."""
    rows = session.execute(text(
        "SELECT coalesce(jsonb_agg(p ORDER BY f.feature_no, o), '[]'::jsonb)::text FROM ("
        " SELECT feature_no, problems FROM upload_features WHERE upload_id = :id AND problems <> '[]'::jsonb"
        " ORDER BY feature_no LIMIT :lim) f, jsonb_array_elements(f.problems) WITH ORDINALITY AS x(p, o)"),
        {"id": upload_id, "lim": limit},
    ).scalar_one()
    return rows.encode()


# --- commit -----------------------------------------------------------------

UNKNOWN_OWNER_CHOICES = ("register", "none")


def commit_upload(session: Session, upload_id: uuid.UUID, *, on_existing: str = "keep",
                  accept_repairs: bool | list[int] = False, confirm_crs: bool = False,
                  unknown_owners: str | None = None, revision: int | None = None) -> dict:
    """Write every staged feature in one transaction, or nothing (an error rolls all of it back).

    ``unknown_owners`` decides what happens to parcels whose owner (权利人) the register does not
    know: ``register`` adds each such name to the register as a new enterprise (no credit code
    yet: 信用代码待补充) and links its parcels; ``none`` imports them without an enterprise. With
    unknown owners and no choice the commit is refused (422). ``revision`` (If-Match) is the
    report the clerk looked at: another one in between (a re-check) is a 409.
    """
    with unit_of_work(session):
        long_statements(session)  # the whole batch's inserts, updates and triggers in one transaction
        upload = get_upload(session, upload_id, lock=True)
        if upload.status == UploadStatus.COMMITTED:
            raise Conflict(message("upload_already_committed", when=when_text(upload.committed_at)),
                           [FieldError("id", message("upload_already_committed", when=when_text(upload.committed_at)))])
        if upload.status != UploadStatus.STAGED:
            raise Conflict(message("upload_not_staged", status=message(f"upload_status_{upload.status.value}")))
        if revision is not None and revision != upload.revision:
            text_ = message("upload_stale", sent=revision, current=upload.revision)
            raise Conflict(text_, [FieldError("If-Match", text_)])
        if upload.crs_source == "guess" and not (confirm_crs or upload.crs_confirmed):
            text_ = message("upload_crs_unconfirmed", epsg=upload.crs_epsg, explanation=(upload.crs or {}).get(
                "explanation_zh", ""))
            raise Conflict(text_, [FieldError("confirm_crs", text_)])
        _check_staging_intact(session, upload)
        # The parcels' history events (migration 0011's triggers) name this upload as their source.
        event_source(session, "upload", upload.uploader, f"upload {upload.id}")
        accepted_all = accept_repairs is True
        accepted = [] if isinstance(accept_repairs, bool) else sorted({int(x) for x in accept_repairs})
        accepted_set = set(accepted)

        rows = session.execute(text(
            "SELECT feature_no, code, problems FROM upload_features"
            " WHERE upload_id = :id AND severity = 'error' ORDER BY feature_no"), {"id": upload_id}).all()
        still: list[FieldError] = []
        for no, code, problems in rows:
            for p in blocking(problems, accepted_all or no in accepted_set):
                still.append(FieldError(p.get("field"), p["message"], no))
        if still:
            first = still[0]
            detail = message("upload_blocked", count=len({e.feature for e in still}), problems=len(still),
                             first=message("upload_blocked_first", feature=first.feature, message=first.message))
            raise InvalidFeatures(detail, still[:500])

        owners = _settle_owners(session, upload, unknown_owners) if upload.target.value == "parcels" else None
        table = TABLES[upload.target.value]
        # Codes may have been stored by someone else since staging: look again, inside this transaction.
        session.execute(text(
            f"UPDATE upload_features f SET existing_id = t.id FROM {table} t"
            " WHERE f.upload_id = :id AND t.code = f.code AND f.existing_id IS DISTINCT FROM t.id"), {"id": upload_id})
        params = {"id": upload_id, "all": accepted_all, "acc": accepted}
        use_fix = "(f.repaired_geom IS NOT NULL AND (:all OR f.feature_no = ANY(:acc)))"
        if upload.target.value == "parcels":
            inserted = session.execute(text(
                "INSERT INTO parcels (code, unit_id, block_id, enterprise_id, geom, land_area_mu, floor_area_m2,"
                " planned_floor_area_m2, far, planned_far, land_use, classification, renewal_mode, renewal_type,"
                " status)"
                f" SELECT f.code, f.unit_id, f.block_id, f.enterprise_id,"
                f" CASE WHEN {use_fix} THEN f.repaired_geom ELSE f.geom END,"
                f" CASE WHEN {use_fix} THEN f.repaired_area_mu ELSE f.area_mu END,"
                " (f.mapped_values->>'floor_area_m2')::numeric, (f.mapped_values->>'planned_floor_area_m2')::numeric,"
                " f.far, f.planned_far, f.mapped_values->>'land_use', f.mapped_values->>'classification',"
                " f.mapped_values->>'renewal_mode', f.mapped_values->>'renewal_type', coalesce(f.mapped_values->>'status', 'not_started')"
                " FROM upload_features f WHERE f.upload_id = :id AND f.existing_id IS NULL ORDER BY f.feature_no"),
                params).rowcount
        elif upload.target.value == "parks":
            inserted = session.execute(text(
                "INSERT INTO parks (code, name, kind, unit_id, approval, is_schematic, geom, area_mu)"
                " SELECT f.code, f.mapped_values->>'name', f.mapped_values->>'kind', f.unit_id,"
                " f.mapped_values->>'approval', coalesce((f.mapped_values->>'is_schematic')::boolean, false),"
                f" CASE WHEN {use_fix} THEN f.repaired_geom ELSE f.geom END,"
                f" CASE WHEN {use_fix} THEN f.repaired_area_mu ELSE f.area_mu END"
                " FROM upload_features f WHERE f.upload_id = :id AND f.existing_id IS NULL ORDER BY f.feature_no"),
                params).rowcount
        else:
            inserted = session.execute(text(
                "INSERT INTO renewal_blocks (code, name, unit_id, geom, area_mu, stage, review_status,"
                " designated_year, planned_far)"
                f" SELECT f.code, f.mapped_values->>'name', f.unit_id,"
                f" CASE WHEN {use_fix} THEN f.repaired_geom ELSE f.geom END,"
                f" CASE WHEN {use_fix} THEN f.repaired_area_mu ELSE f.area_mu END,"
                " coalesce(f.mapped_values->>'stage', 'planned'), 'draft', (f.mapped_values->>'designated_year')::int,"
                " (f.mapped_values->>'planned_far')::numeric"
                " FROM upload_features f WHERE f.upload_id = :id AND f.existing_id IS NULL ORDER BY f.feature_no"),
                params).rowcount

        existing, unchanged = session.execute(text(
            "SELECT count(*), count(*) FILTER (WHERE (f.mapped_values->>'unchanged')::boolean IS TRUE)"
            " FROM upload_features f WHERE f.upload_id = :id AND f.existing_id IS NOT NULL"), params).one()
        replaced = 0
        kept = 0
        if on_existing == "replace":
            replaced = _replace(session, upload, use_fix, params)
        else:
            kept = existing - unchanged
        outcome = {"inserted": int(inserted), "replaced": replaced, "kept": kept, "unchanged": unchanged,
                   "on_existing": on_existing, "accepted_repairs": "all" if accepted_all else accepted,
                   "bbox": _written_bbox(session, upload_id, use_fix, params, replace=on_existing == "replace")}
        if owners is not None:
            outcome["owners"] = owners
        session.execute(text("DELETE FROM upload_sources WHERE upload_id = :id"), {"id": upload_id})
        upload.status = UploadStatus.COMMITTED
        upload.committed_at = dt.datetime.now(dt.timezone.utc)
        upload.outcome = outcome
        upload.options = {**(upload.options or {}), "on_existing": on_existing,
                          "accept_repairs": "all" if accepted_all else accepted}
        if owners is not None:
            upload.options["unknown_owners"] = owners["choice"]
        if confirm_crs:
            upload.crs_confirmed = True
    return outcome


# Each staged parcel's enterprise once more, now, by credit code and then by name: the register
# may have learnt an owner since the check. Of two enterprises with one name, the one with a credit code.
_LINK_OWNERS = (
    "UPDATE upload_features f SET enterprise_id = e.id FROM enterprises e"
    " WHERE f.upload_id = :id AND f.enterprise_id IS NULL AND e.credit_code = f.mapped_values->>'credit_code'",
    "UPDATE upload_features f SET enterprise_id = e.id"
    " FROM (SELECT DISTINCT ON (name) id, name FROM enterprises ORDER BY name, credit_code IS NULL, id) e"
    " WHERE f.upload_id = :id AND f.enterprise_id IS NULL AND e.name = f.mapped_values->>'enterprise'",
)
_UNKNOWN_OWNERS = (
    "SELECT count(DISTINCT f.mapped_values->>'enterprise'), count(*),"
    " (array_agg(DISTINCT f.mapped_values->>'enterprise'))[1:10]"
    " FROM upload_features f WHERE f.upload_id = :id AND f.enterprise_id IS NULL"
    " AND f.mapped_values->>'enterprise' IS NOT NULL")


def _settle_owners(session: Session, upload: Upload, choice: str | None) -> dict | None:
    """Link each parcel to its enterprise; owners still unknown are registered or left out, as chosen.

    Returns what happened (``outcome.owners``), or None when the file names no owner.
    """
    mapped = upload.mapping or {}
    if "enterprise" not in mapped and "credit_code" not in mapped:
        return None
    params = {"id": upload.id}
    before = session.execute(text(
        "SELECT count(*) FROM upload_features WHERE upload_id = :id AND enterprise_id IS NULL"
        " AND mapped_values->>'enterprise' IS NOT NULL"), params).scalar_one()
    for sql in _LINK_OWNERS:
        session.execute(text(sql), params)
    names, features, some = session.execute(text(_UNKNOWN_OWNERS), params).one()
    linked = before - features
    if not names:
        return {"choice": choice, "unknown": 0, "registered": 0, "linked_since_check": linked, "without_owner": 0}
    if choice not in UNKNOWN_OWNER_CHOICES:
        listed = "、".join(sorted(some)) + (message("upload_names_more") if names > len(some) else "")
        text_ = message("upload_owner_choice_required", count=names, features=features, names=listed)
        raise InvalidUpload(text_, [FieldError("unknown_owners", message("upload_owner_choice_field"))],
                            code="owner_choice_required", status_code=422)
    registered = 0
    if choice == "register":
        registered = session.execute(text(
            "INSERT INTO enterprises (name, registered_from_upload_id)"
            " SELECT DISTINCT f.mapped_values->>'enterprise', CAST(:id AS uuid) FROM upload_features f"
            " WHERE f.upload_id = :id AND f.enterprise_id IS NULL AND f.mapped_values->>'enterprise' IS NOT NULL"
            " ON CONFLICT (name) WHERE credit_code IS NULL DO NOTHING"), params).rowcount
        session.execute(text(_LINK_OWNERS[1]), params)
    return {"choice": choice, "unknown": int(names), "registered": int(registered), "linked_since_check": int(linked),
            "without_owner": 0 if choice == "register" else int(features)}


def _written_bbox(session: Session, upload_id: uuid.UUID, use_fix: str, params: dict, *,
                  replace: bool) -> list[float] | None:
    """[min lon, min lat, max lon, max lat] (EPSG:4490) of what the commit wrote: the map shows it."""
    row = session.execute(text(
        f"SELECT ST_XMin(x), ST_YMin(x), ST_XMax(x), ST_YMax(x) FROM (SELECT ST_Extent("
        f"CASE WHEN {use_fix} THEN f.repaired_geom ELSE f.geom END) AS x FROM upload_features f"
        " WHERE f.upload_id = :id AND (f.existing_id IS NULL OR (:replace"
        " AND (f.mapped_values->>'unchanged')::boolean IS NOT TRUE))) e"), {**params, "replace": replace}).one()
    return None if row[0] is None else [round(float(v), 7) for v in row]


def _check_staging_intact(session: Session, upload: Upload) -> None:
    """Staged rows live in an UNLOGGED table (migration 0006): after a crash they are gone; never commit part."""
    expected = int((upload.counts or {}).get("features", 0))
    found = session.execute(text("SELECT count(*) FROM upload_features WHERE upload_id = :id"),
                            {"id": upload.id}).scalar_one()
    if found != expected:
        detail = message("upload_staging_lost", expected=expected, found=found)
        raise Conflict(detail, [FieldError("id", detail)])


# Replaced features: which staged rows, and the staged shape (the offered repair where accepted).
_REPLACING = ("f.upload_id = :id AND f.existing_id IS NOT NULL"
              " AND (f.mapped_values->>'unchanged')::boolean IS NOT TRUE")
_FAR_OF = ("CASE WHEN {area} > 0 THEN round(({floor})::numeric / ({area} * {m2_per_mu})::numeric, 4) END")


def _replace(session: Session, upload: Upload, use_fix: str, params: dict) -> int:
    """Replace the stored features that changed: the previous rows into ``feature_history``, then one
    ``UPDATE … FROM upload_features`` (set-based, like the insert; no ORM object per feature).

    The measures are the ones the ORM's ``before_flush`` hook would give the new shape: the area
    staging computed from it (``spatial``, EPSG:4549) and the FARs from it with the file's floor
    areas where mapped, else the stored ones. When a person is acting, one audit row per replaced
    feature records the columns that changed (as the ``after_flush`` hook does for ORM writes).
    """
    table = TABLES[upload.target.value]
    area_col = "land_area_mu" if table == "parcels" else "area_mu"
    session.execute(text(
        "INSERT INTO feature_history (layer, feature_id, code, upload_id, geom, area_mu, attributes)"
        f" SELECT :layer, t.id, t.code, :upload, t.geom, t.{area_col}, {_attributes_json(table)}"
        f" FROM {table} t JOIN upload_features f ON f.existing_id = t.id WHERE {_REPLACING}"),
        {**params, "layer": table, "upload": upload.id})
    mapped = set((upload.mapping or {}).keys())
    area = f"(CASE WHEN {use_fix} THEN f.repaired_area_mu ELSE f.area_mu END)"
    sets = [f"geom = CASE WHEN {use_fix} THEN f.repaired_geom ELSE f.geom END", f"{area_col} = {area}",
            "unit_id = coalesce(f.unit_id, t.unit_id)", "updated_at = now()"]
    if table == "parcels":
        for col in PARCEL_VALUE_COLUMNS:
            if col in mapped:
                value = f"f.mapped_values->>'{col}'"
                sets.append(f"{col} = " + (f"coalesce({value}, t.status)" if col == "status" else
                                           f"({value})::numeric" if col.endswith("_m2") else value))
        if "block" in mapped:
            sets.append("block_id = f.block_id")
        if "enterprise" in mapped or "credit_code" in mapped:
            sets.append("enterprise_id = f.enterprise_id")
        for far, floor in (("far", "floor_area_m2"), ("planned_far", "planned_floor_area_m2")):
            new_floor = f"(f.mapped_values->>'{floor}')::numeric" if floor in mapped else f"t.{floor}"
            sets.append(f"{far} = " + _FAR_OF.format(area=area, floor=new_floor, m2_per_mu=spatial.M2_PER_MU))
    elif table == "parks":
        sets[2] = "unit_id = f.unit_id" if "kind" in mapped else sets[2]  # a 开发区 belongs to no town
        sets.append("row_version = t.row_version + 1")
        for col in PARK_VALUE_COLUMNS:
            if col in mapped:
                value = f"f.mapped_values->>'{col}'"
                if col == "is_schematic":
                    value = f"({value})::boolean"
                sets.append(f"{col} = coalesce({value}, t.{col})")
    else:
        casts = {"designated_year": "int", "planned_far": "numeric"}
        for col in BLOCK_VALUE_COLUMNS:
            if col in mapped:
                value = f"f.mapped_values->>'{col}'"
                if col in casts:
                    value = f"({value})::{casts[col]}"
                sets.append(f"{col} = coalesce({value}, t.{col})")
    session.flush()  # what the ORM holds is written first; its loaded copies of these rows are stale after
    replaced = session.execute(text(
        f"UPDATE {table} t SET {', '.join(sets)} FROM upload_features f WHERE f.existing_id = t.id AND {_REPLACING}"),
        params).rowcount
    model = MODELS[table]
    for obj in [o for o in session.identity_map.values() if isinstance(o, model)]:
        session.expire(obj)
    _audit_replaced(session, upload, table)
    return int(replaced)


def _attributes_json(table: str) -> str:
    """SQL for row ``t``'s columns but its shape, as JSON. Not ``to_jsonb(t) - 'geom'``: that has PostGIS
    write every shape as GeoJSON first (its geometry → jsonb cast), then drops it — most of the time
    of a 100k replace."""
    model = MODELS[table]
    columns = [c.name for c in model.__table__.columns if c.name != "geom"]
    return "jsonb_build_object(" + ", ".join(f"'{c}', t.{c}" for c in columns) + ")"


def _audit_replaced(session: Session, upload: Upload, table: str) -> None:
    """One audit row per replaced feature, set-based: its changed columns before and after (shapes by digest)."""
    user_id, username = audit.actor(session)
    if "actor" not in session.info:  # core tables are audited only when a person writes them
        return
    noise = "ARRAY['row_version', 'updated_at', 'created_at', 'geom']"
    session.execute(text(
        "INSERT INTO audit_log (user_id, username, action, object_type, object_id, before, after)"
        " SELECT CAST(:user_id AS int), CAST(:username AS text), 'update', CAST(:layer AS text), h.feature_id::text,"
        "  c.before || CASE WHEN g.changed THEN jsonb_build_object('geom', g.old) ELSE '{}' END,"
        "  c.after || CASE WHEN g.changed THEN jsonb_build_object('geom', g.new) ELSE '{}' END"
        f" FROM feature_history h JOIN {table} t ON t.id = h.feature_id,"
        " LATERAL (SELECT coalesce(jsonb_object_agg(o.key, o.value), '{}') AS before,"
        "   coalesce(jsonb_object_agg(o.key, n.value), '{}') AS after"
        f"   FROM jsonb_each(h.attributes) o JOIN jsonb_each({_attributes_json(table)}) n USING (key)"
        f"   WHERE o.value IS DISTINCT FROM n.value AND NOT o.key = ANY({noise})) c,"
        " LATERAL (SELECT ST_AsEWKB(h.geom) <> ST_AsEWKB(t.geom) AS changed,"
        "   jsonb_build_object('geometry_sha256', left(encode(sha256(ST_AsEWKB(h.geom)), 'hex'), 16)) AS old,"
        "   jsonb_build_object('geometry_sha256', left(encode(sha256(ST_AsEWKB(t.geom)), 'hex'), 16)) AS new) g"
        " WHERE h.upload_id = :upload AND h.layer = CAST(:layer AS text)"
        "  AND (c.before <> '{}' OR g.changed)"),
        {"user_id": user_id, "username": username, "layer": table, "upload": upload.id})


def when_text(value: dt.datetime | None) -> str:
    """A moment as the clerk reads it (Beijing time), for the messages."""
    if value is None:
        return message("upload_earlier")
    return value.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")
