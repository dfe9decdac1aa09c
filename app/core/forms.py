"""A small multipart form read into memory while it streams, every file and the whole body capped
(月报 evidence files and sheets: a few MB each). Big uploads stream to disk instead (app/ingest)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath
from urllib.parse import unquote

from fastapi import Request
from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header

from ..errors import FieldError, InvalidUpload, PayloadTooLarge
from ..messages import message

TEXT_FIELD_MAX = 10_000
MULTIPART_OVERHEAD = 64 * 1024


@dataclass
class FormFile:
    field: str
    filename: str
    data: bytes


@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[FormFile] = field(default_factory=list)

    def files_of(self, name: str) -> list[FormFile]:
        return [f for f in self.files if f.field == name]


class _Stop(Exception):
    def __init__(self, error: Exception) -> None:
        self.error = error


class _Reader:
    def __init__(self, max_file: int, max_total: int, max_files: int, mb_label: str) -> None:
        self.form = Form()
        self.max_file, self.max_total, self.max_files, self.mb_label = max_file, max_total, max_files, mb_label
        self.total = 0
        self._headers: dict[str, bytes] = {}
        self._hname = self._hvalue = b""
        self._name: str | None = None
        self._filename: str | None = None
        self._buf = bytearray()

    def callbacks(self) -> dict:
        return {"on_part_begin": self._begin, "on_header_field": self._hfield, "on_header_value": self._hval,
                "on_header_end": self._hend, "on_headers_finished": self._hdone, "on_part_data": self._data,
                "on_part_end": self._end}

    def _begin(self) -> None:
        self._headers, self._name, self._filename, self._buf = {}, None, None, bytearray()

    def _hfield(self, data: bytes, start: int, end: int) -> None:
        self._hname += data[start:end]

    def _hval(self, data: bytes, start: int, end: int) -> None:
        self._hvalue += data[start:end]

    def _hend(self) -> None:
        self._headers[self._hname.decode("latin-1").lower()] = self._hvalue
        self._hname = self._hvalue = b""

    def _hdone(self) -> None:
        _kind, params = parse_options_header(self._headers.get("content-disposition", b""))
        self._name = params.get(b"name", b"").decode("utf-8", "replace")
        raw = params.get(b"filename*") or params.get(b"filename")
        if raw is not None:
            name = raw.decode("utf-8", "replace")
            if name.lower().startswith("utf-8''"):
                name = unquote(name[7:])
            self._filename = PurePath(name.replace("\\", "/")).name or "upload"
            if len(self.form.files) >= self.max_files:
                text = message("form_too_many_files", max=self.max_files)
                raise _Stop(InvalidUpload(text, [FieldError(self._name, text)], code="too_many_files",
                                          status_code=422))

    def _data(self, data: bytes, start: int, end: int) -> None:
        self._buf += data[start:end]
        self.total += end - start
        if self._filename is not None and len(self._buf) > self.max_file:
            text = message("form_file_too_large", name=self._filename, mb=self.mb_label)
            raise _Stop(PayloadTooLarge(text, [FieldError(self._name, text)]))
        if self._filename is None and len(self._buf) > TEXT_FIELD_MAX:
            text = message("form_field_too_long", max=TEXT_FIELD_MAX)
            raise _Stop(InvalidUpload(text, [FieldError(self._name, text)], code="field_too_long", status_code=422))
        if self.total > self.max_total:
            text = message("form_too_large", mb=f"{self.max_total / 1048576:g}")
            raise _Stop(PayloadTooLarge(text, [FieldError(self._name, text)]))

    def _end(self) -> None:
        if self._name is None:
            return
        if self._filename is not None:
            self.form.files.append(FormFile(self._name, self._filename, bytes(self._buf)))
        else:
            self.form.fields[self._name] = self._buf.decode("utf-8", "replace").strip()


async def read_form(request: Request, *, max_file: int, max_total: int, max_files: int = 20) -> Form:
    """The form's fields and files; 413 as soon as a file or the body is too big, 422 for anything that
    is not a well-formed multipart form."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_total + MULTIPART_OVERHEAD:
        text = (message("form_one_file_too_large", mb=f"{max_file / 1048576:g}") if max_files == 1
                else message("form_too_large", mb=f"{max_total / 1048576:g}"))
        raise PayloadTooLarge(text, [FieldError("file", text)])
    kind, params = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data" or not params.get(b"boundary"):
        text = message("upload_not_multipart")
        raise InvalidUpload(text, [FieldError("file", text)], code="invalid_request", status_code=422)
    reader = _Reader(max_file, max_total + MULTIPART_OVERHEAD, max_files, f"{max_file / 1048576:g}")
    parser = MultipartParser(params[b"boundary"], reader.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except _Stop as stop:
        raise stop.error from None
    except (MultipartParseError, ValueError):
        text = message("form_malformed")
        raise InvalidUpload(text, [FieldError("file", text)], code="invalid_request", status_code=422) from None
    return reader.form
