"""Upload API: POST /api/uploads (stage), GET /api/uploads/{id} (report + GeoJSON),
PUT …/mapping (check again with another field mapping), POST …/commit.

Every report carries its revision as the ETag; PUT …/mapping and the commit take it back in
If-Match (optional: when sent and another re-check came in between, 409).

The multipart body is streamed to the upload's own temporary folder with a
running byte count, so an oversize file is refused (413) at the cap, never
read whole; that folder is removed whatever happens.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import unquote

import orjson
from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header
from sqlalchemy.orm import Session

from ..auth import Role, require_role
from ..core.concurrency import etag, sent_version
from ..core.db import SessionDep
from ..core.uow import unit_of_work
from ..errors import AppError, FieldError, InvalidParameter, InvalidUpload, PayloadTooLarge, error_responses
from ..messages import message
from .models import Upload, UploadStatus, UploadTarget
from ..settings import Settings, get_settings
from . import mapping as mapping_mod
from . import store
from .layers import preview_page
from .boundary import read_boundary
from .schemas import BoundaryFile, UploadAccepted, UploadReport
from .read import Limits
from .service import RecheckRequest, StageRequest, recheck, require_readable, sha256_of, stage

log = logging.getLogger("cloudmap.ingest")
# Uploads write the parcel register: GIS staff (自然资源和规划局, town clerks) and admins only.
router = APIRouter(
    prefix="/api/uploads", tags=["上传"], dependencies=[Depends(require_role(Role.GIS_STAFF, Role.ADMIN))],
    responses=error_responses(401, 403),
)
REPORT = {"model": UploadReport, "description": "检查报告（含逐要素问题）"}
TEXT_FIELD_MAX = 64 * 1024
MULTIPART_OVERHEAD = 256 * 1024  # boundaries, headers and the small text fields around the file
TEXT_FIELDS = {"layer", "crs", "encoding", "mapping", "target"}
PROGRESS_EVERY_S = 0.5
PREVIEW_LIMIT = 100_000  # a re-check answers with the staged features, as the screen's GET asks for them


def limits_of(settings: Settings) -> Limits:
    return Limits(
        max_unpacked_bytes=settings.upload_max_unpacked_mb * 2**20,
        max_ratio=settings.upload_max_ratio,
        max_members=settings.upload_max_members,
    )


def uploader_of(request: Request) -> str:
    """Who sent it: the logged-in user (the router's role check has put them on the request)."""
    return request.state.principal.username[:64]


class _Receiver:
    """Streaming multipart: the ``file`` part goes to disk with a byte count, text fields to memory."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.path = folder / "upload.bin"
        self.filename: str | None = None
        self.fields: dict[str, str] = {}
        self.size = 0
        self._out = None
        self._name: str | None = None
        self._buf = bytearray()
        self._headers: dict[str, bytes] = {}
        self._hname = b""
        self._hvalue = b""
        self.error: AppError | None = None

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._begin, "on_header_field": self._hfield, "on_header_value": self._hval,
            "on_header_end": self._hend, "on_headers_finished": self._hdone, "on_part_data": self._data,
            "on_part_end": self._end,
        }

    def _begin(self) -> None:
        self._headers, self._name, self._buf = {}, None, bytearray()

    def _hfield(self, data: bytes, start: int, end: int) -> None:
        self._hname += data[start:end]

    def _hval(self, data: bytes, start: int, end: int) -> None:
        self._hvalue += data[start:end]

    def _hend(self) -> None:
        self._headers[self._hname.decode("latin-1").lower()] = self._hvalue
        self._hname, self._hvalue = b"", b""

    def _hdone(self) -> None:
        _kind, params = parse_options_header(self._headers.get("content-disposition", b""))
        self._name = params.get(b"name", b"").decode("utf-8", "replace")
        if self._name == "file":
            raw = params.get(b"filename*") or params.get(b"filename") or b"upload"
            name = raw.decode("utf-8", "replace")
            if name.lower().startswith("utf-8''"):
                name = unquote(name[7:])
            self.filename = Path(name.replace("\\", "/")).name or "upload"
            self._out = self.path.open("wb")

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._name == "file" and self._out is not None:
            self.size += end - start
            if self.size > self.max_bytes:
                raise _TooLarge()
            self._out.write(data[start:end])
        elif self._name in TEXT_FIELDS:
            self._buf += data[start:end]
            if len(self._buf) > TEXT_FIELD_MAX:
                raise InvalidParameter(self._name, message("upload_field_too_long"))

    def _end(self) -> None:
        if self._name == "file" and self._out is not None:
            self._out.close()
            self._out = None
        elif self._name in TEXT_FIELDS:
            self.fields[self._name] = self._buf.decode("utf-8", "replace").strip()

    def close(self) -> None:
        if self._out is not None:
            self._out.close()


class _TooLarge(Exception):
    pass


def _too_large(settings: Settings) -> PayloadTooLarge:
    text = message("upload_too_large", max_mb=settings.upload_max_mb)
    return PayloadTooLarge(text, [FieldError("file", text)])


async def _receive(request: Request, folder: Path, settings: Settings) -> _Receiver:
    max_bytes = settings.upload_max_mb * 2**20
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes + MULTIPART_OVERHEAD:
        raise _too_large(settings)
    kind, params = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data" or b"boundary" not in params:
        text = message("upload_not_multipart")
        raise InvalidUpload(text, [FieldError("file", text)], code="invalid_request", status_code=422)
    receiver = _Receiver(folder, max_bytes)
    parser = MultipartParser(params[b"boundary"], receiver.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except _TooLarge:
        raise _too_large(settings) from None
    finally:
        receiver.close()
    if receiver.filename is None:
        text = message("upload_file_missing")
        raise InvalidUpload(text, [FieldError("file", text)], code="invalid_request", status_code=422)
    return receiver


def _mapping_field(raw: str | None) -> dict | None:
    if not raw:
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise InvalidParameter("mapping", message("upload_mapping_not_json"))
    return value


def payload(session: Session, upload: Upload, *, features: bool = False, limit: int = 1000, offset: int = 0,
            severity: str | None = None) -> bytes:
    """The report as JSON (problems and GeoJSON are assembled by PostgreSQL and spliced in)."""
    opts = upload.options or {}
    counts = upload.counts or {}
    unknown = next(({k: n[k] for k in ("count", "features", "names")}
                    for n in opts.get("notes", []) if n.get("code") == "enterprise_unknown" and "names" in n), None)
    body = {
        "id": str(upload.id),
        "status": upload.status.value,
        "uploader": upload.uploader,
        "created_at": upload.created_at.isoformat() if upload.created_at else None,
        "filename": upload.filename,
        "file_sha256": upload.file_sha256,
        "file_size_bytes": upload.file_size_bytes,
        "target": upload.target.value,
        "format": upload.format,
        "layer": upload.layer,
        "layers": upload.layers,
        "geometry_type": opts.get("geometry_type"),
        "encoding": {"name": upload.encoding, "source": upload.encoding_source, "samples": opts.get("samples", [])},
        "crs": {**(upload.crs or {}), "epsg": upload.crs_epsg, "source": upload.crs_source,
                "confirmed": upload.crs_confirmed, "needs_confirmation": not upload.crs_confirmed
                and upload.crs_source == "guess"},
        "revision": upload.revision,
        "fields": opts.get("fields", []),
        "mapping": upload.mapping,
        "mapping_fields": mapping_mod.describe(upload.target.value, opts.get("fields", []), upload.mapping or {}),
        "mapping_missing": (mapping_mod.missing_required(upload.mapping or {}, upload.target.value)
                            if upload.status == UploadStatus.STAGED else []),
        "mapping_remembered": opts.get("mapping_remembered", False),
        "declared_area_unit": opts.get("area_unit"),
        "counts": counts,
        "can_commit": upload.status == UploadStatus.STAGED and counts.get("errors_after_repair", 1) == 0,
        "needs_repair_acceptance": counts.get("errors", 0) > 0 and counts.get("errors_after_repair", 1) == 0,
        "previous_upload": opts.get("previous_upload"),
        "notes": opts.get("notes", []),
        "unknown_owners": unknown,
        "needs_owner_choice": unknown is not None and upload.status == UploadStatus.STAGED,
        "progress": upload.progress,
        "outcome": upload.outcome,
        "committed_at": upload.committed_at.isoformat() if upload.committed_at else None,
    }
    if upload.status in (UploadStatus.STAGED, UploadStatus.COMMITTED):
        body["problems"] = orjson.Fragment(store.problems_json(session, upload.id))
        if features:
            page = preview_page(session, upload.id, limit=limit, offset=offset, severity=severity)
            body["features"] = {"type": "FeatureCollection", "numberMatched": page.number_matched,
                                "features": orjson.Fragment(page.features_json)}
    return orjson.dumps(body)


def _json(content: bytes, status: int = 200, headers: dict | None = None) -> Response:
    return Response(content, status_code=status, media_type="application/json", headers=headers)


def _report(session: Session, upload_id: uuid.UUID, status: int = 200, headers: dict | None = None, **kw) -> Response:
    """The report, with its revision as the ETag."""
    upload = store.get_upload(session, upload_id)
    return _json(payload(session, upload, **kw), status, {**(headers or {}), "ETag": etag(upload.revision)})


def _sent_revision(session: Session, request: Request, upload_id: uuid.UUID) -> int | None:
    """The report revision in If-Match (None when absent or ``*``); 428 when it is no ETag."""
    if not request.headers.get("If-Match", "").strip():
        return None
    return sent_version(request, store.get_upload(session, upload_id).revision, message("upload_report_what"),
                        required=False)


@router.post("", status_code=201, summary="上传并暂存一个图层（zip 打包的 Shapefile、GeoPackage 或 GeoJSON）",
             responses={201: REPORT, 202: {"model": UploadAccepted, "description": "已接收，正在暂存（Prefer: respond-async）"},
                        **error_responses(409, 413)},
             openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {
                 "type": "object", "required": ["file"], "properties": {
                     "file": {"type": "string", "format": "binary"},
                     "layer": {"type": "string"}, "crs": {"type": "string"}, "encoding": {"type": "string"},
                     "target": {"type": "string", "enum": ["parcels", "blocks", "parks"]},
                     "mapping": {"type": "string", "description": "JSON：模型字段 → 源字段"}}}}}}})
async def create_upload(request: Request, session: SessionDep,
                        settings: Annotated[Settings, Depends(get_settings)]) -> Response:
    base = settings.upload_tmp_dir
    if base is not None:
        base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="cloudmap-upload-", dir=base))
    handed_off = False
    try:
        received = await _receive(request, folder, settings)
        fields = received.fields
        req = StageRequest(
            path=received.path, filename=received.filename or "upload", workdir=folder, limits=limits_of(settings),
            uploader=uploader_of(request), target=fields.get("target") or "parcels", layer=fields.get("layer") or None,
            crs=fields.get("crs") or None, encoding=fields.get("encoding") or None,
            mapping=_mapping_field(fields.get("mapping")),
        )
        if "respond-async" in request.headers.get("prefer", ""):
            upload_id = await run_in_threadpool(_start_async, request, req, folder)
            handed_off = True
            return _json(orjson.dumps({"id": str(upload_id), "status": "staging", "progress": None}), 202,
                         {"Location": f"/api/uploads/{upload_id}", "Preference-Applied": "respond-async"})
        return await run_in_threadpool(_stage_and_report, session, req)
    finally:
        if not handed_off:
            shutil.rmtree(folder, ignore_errors=True)


def _stage_and_report(session: Session, req: StageRequest) -> Response:
    upload = stage(session, req)
    return _report(session, upload.id, 201, {"Location": f"/api/uploads/{upload.id}"})


def _start_async(request: Request, req: StageRequest, folder: Path) -> uuid.UUID:
    """Create the record now, stage in a thread; GET shows ``progress`` until ``staged`` or ``failed``."""
    maker = request.app.state.sessionmaker
    upload_id = uuid.uuid4()
    sha = sha256_of(req.path)
    if req.target not in ("parcels", "blocks", "parks"):
        raise InvalidParameter("target", message("upload_target_unknown", value=req.target))
    with maker() as s, unit_of_work(s):
        s.add(Upload(id=upload_id, uploader=req.uploader[:64], filename=req.filename[:255], file_sha256=sha,
                     file_size_bytes=req.path.stat().st_size, target=UploadTarget(req.target),
                     status=UploadStatus.STAGING, mapping={}, options={}, counts={},
                     progress={"phase": "received", "done": 0, "total": 0}))
    threading.Thread(target=_stage_in_background, args=(maker, req, folder, upload_id, sha), daemon=True,
                     name=f"upload-{upload_id}").start()
    return upload_id


def _stage_in_background(maker, req: StageRequest, folder: Path, upload_id: uuid.UUID, sha: str) -> None:
    last = [0.0]

    def progress(phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY_S and done < total:
            return
        last[0] = now
        with maker() as s, unit_of_work(s):
            up = s.get(Upload, upload_id)
            if up is not None and up.status == UploadStatus.STAGING:
                up.progress = {"phase": phase, "done": done, "total": total}

    try:
        with maker() as session:
            stage(session, req, file_sha256=sha, upload_id=upload_id, progress=progress)
    except AppError as exc:
        _fail(maker, upload_id, {"detail": exc.detail, "code": exc.code,
                                 "errors": [{k: v for k, v in e.__dict__.items() if v is not None} for e in exc.errors]})
    except Exception:  # noqa: BLE001 - logged once; the clerk sees a Chinese sentence, not internals
        ref = uuid.uuid4().hex[:12]
        log.exception("staging upload %s failed (%s)", upload_id, ref)
        _fail(maker, upload_id, {"detail": message("internal_error", request_id=ref), "code": "internal_error",
                                 "errors": []})
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _fail(maker, upload_id: uuid.UUID, error: dict) -> None:
    with maker() as s, unit_of_work(s):
        up = s.get(Upload, upload_id)
        if up is not None:
            up.status = UploadStatus.FAILED
            up.outcome = {"error": error}
            up.progress = None


def _require_readable(session: Session, request: Request, upload_id: uuid.UUID) -> None:
    principal = request.state.principal
    require_readable(session, upload_id, actor=uploader_of(request), actor_is_admin=principal.role == Role.ADMIN)


def _upload_id(upload_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(upload_id)
    except ValueError:
        raise InvalidParameter("id", message("upload_bad_id", value=upload_id)) from None


@router.get("/{upload_id}", summary="上传的检查报告、预览与暂存要素（GeoJSON）",
            responses={200: REPORT, **error_responses(404)})
def read_upload(
    upload_id: str,
    request: Request,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100_000, description="返回的暂存要素数")] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
    severity: Annotated[Literal["ok", "warning", "error"] | None, Query(description="只看某一级别的要素")] = None,
) -> Response:
    uid = _upload_id(upload_id)
    _require_readable(session, request, uid)
    return _report(session, uid, features=True, limit=limit, offset=offset, severity=severity)


class MappingBody(BaseModel):
    mapping: dict[str, str | None] = Field(
        description="系统字段 → 文件中的字段；null 表示不导入该字段；未列出的系统字段保持原来的对应",
        examples=[{"code": "宗地编好", "land_use": None}])


@router.put("/{upload_id}/mapping", summary="修改字段对应并重新检查（用暂存的原文件，不必重新上传）",
            responses={200: REPORT, **error_responses(404, 409, 428)})
def put_mapping(upload_id: str, body: MappingBody, request: Request, session: SessionDep,
                settings: Annotated[Settings, Depends(get_settings)]) -> Response:
    uid = _upload_id(upload_id)
    revision = _sent_revision(session, request, uid)
    base = settings.upload_tmp_dir
    if base is not None:
        base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="cloudmap-recheck-", dir=base))
    try:
        principal = request.state.principal
        recheck(session, RecheckRequest(upload_id=uid, mapping=body.mapping, workdir=folder,
                                        limits=limits_of(settings), actor=uploader_of(request),
                                        actor_is_admin=principal.role == Role.ADMIN, revision=revision))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return _report(session, uid, features=True, limit=PREVIEW_LIMIT)


class CommitOptions(BaseModel):
    on_existing: Literal["keep", "replace"] = Field(
        "keep", description="文件中的编号已存在时：keep 保留库中原有要素，replace 用文件中的替换（原要素存入历史）")
    accept_repairs: bool | list[int] = Field(
        False, description="接受报告中提供的几何修复结果：true 表示全部接受，或给出要素序号列表")
    confirm_crs: bool = Field(False, description="确认系统推断的坐标系（无 .prj 时必须确认）")
    unknown_owners: Literal["register", "none"] | None = Field(
        None, description="文件中的权利人不在企业库中时（报告的 unknown_owners）必须选择：register 登记为新企业"
        "（只有名称，信用代码待补充）并关联其宗地；none 这些宗地不关联企业导入")


@router.post("/{upload_id}/commit", summary="入库：全部写入，或一条也不写",
             responses={200: REPORT, **error_responses(404, 409, 428)})
def commit(upload_id: str, request: Request, session: SessionDep,
           options: Annotated[CommitOptions | None, Body()] = None) -> Response:
    options = options or CommitOptions()
    uid = _upload_id(upload_id)
    _require_readable(session, request, uid)
    revision = _sent_revision(session, request, uid)
    store.commit_upload(session, uid, on_existing=options.on_existing, accept_repairs=options.accept_repairs,
                        confirm_crs=options.confirm_crs, unknown_owners=options.unknown_owners, revision=revision)
    return _report(session, uid)


# A block boundary from a file: town officers drafting a plan, GIS staff and admins; nothing is stored.
boundaries = APIRouter(
    prefix="/api/boundaries", tags=["上传"],
    dependencies=[Depends(require_role(Role.UNIT_OFFICER, Role.GIS_STAFF, Role.ADMIN))],
    responses=error_responses(401, 403),
)


@boundaries.post("/read", summary="读取边界文件（zip 打包的 Shapefile、GeoPackage 或 GeoJSON，任一可识别的坐标系）："
                 "返回其中唯一的面，EPSG:4490 经纬度；不保存", response_model=BoundaryFile,
                 responses=error_responses(413),
                 openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {
                     "type": "object", "required": ["file"], "properties": {
                         "file": {"type": "string", "format": "binary"},
                         "layer": {"type": "string"}, "crs": {"type": "string"}}}}}}})
async def read_boundary_file(request: Request, settings: Annotated[Settings, Depends(get_settings)]) -> dict:
    base = settings.upload_tmp_dir
    if base is not None:
        base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="cloudmap-boundary-", dir=base))
    try:
        received = await _receive(request, folder, settings)
        return await run_in_threadpool(
            read_boundary, received.path, received.filename or "upload", folder, limits_of(settings),
            layer=received.fields.get("layer") or None, crs=received.fields.get("crs") or None)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
