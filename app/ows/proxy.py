"""``mapserv`` run as a CGI program for one request, and its answer made the service's own.

MapServer is started per request (a few tens of milliseconds), at most ``MAX_PROCESSES`` at a
time and for at most ``TIMEOUT_S`` seconds. Its answer's Content-Type comes from the CGI
headers; in XML (capabilities, GML, exceptions) and HTML the placeholder online resource of the
mapfile becomes the URL the client called, with its ``apikey`` when it sent one in the query, so
that a client following the capabilities (QGIS's GetMap, GDAL's DescribeFeatureType) keeps it.

With a read replica (``DATABASE_REPLICA_URL``) there are two mapfiles, one per server, and a request
reads where the read path would (:meth:`~app.core.read.replica.RoutedReads.replica_current`): on the
replica when it has replayed what this client wrote and every tile invalidation this process has seen,
else on the primary.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote_plus
from xml.sax.saxutils import escape

import anyio
from sqlalchemy.engine import URL

from ..core.read.layers import collections
from ..core.read.replica import RoutedReads
from ..core.read.sql import extent
from ..errors import AppError
from ..messages import message
from . import mapfile

log = logging.getLogger("cloudmap.ows")

MAPSERV = "/usr/lib/cgi-bin/mapserv"  # Debian's cgi-mapserver
TIMEOUT_S = 60  # one request's limit (a whole-layer GML GetFeature of 100k parcels takes ~20 s)
MAX_PROCESSES = 4  # mapserv processes at a time (2 cores: more only queue in PostgreSQL)
DROPPED = {"apikey", "map"}  # never passed on: the key, and a client's choice of mapfile
REWRITTEN = ("xml", "html", "gml", "text/plain")


RUN_PREFIX = f"cloudmap-ows-{os.getuid()}-"  # + pid: the run directories of this user's processes


def _sweep() -> None:
    """Remove the run directories of processes that are gone.

    A server stopped by SIGTERM does not run exit handlers (uvicorn re-raises the signal after
    its graceful shutdown), so its directory stays behind until the next start removes it.
    """
    for path in Path(tempfile.gettempdir()).glob(f"{RUN_PREFIX}*"):
        pid = path.name[len(RUN_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:
            pass  # alive, another user's


class OwsUnavailable(AppError):
    status_code = 503
    code = "ows_unavailable"


def mapserv_path() -> str | None:
    if os.access(MAPSERV, os.X_OK):
        return MAPSERV
    return shutil.which("mapserv")


def query_for_mapserver(raw: str) -> str:
    """The client's query string without ``apikey`` and ``map`` (any case), otherwise untouched."""
    kept = []
    for part in raw.split("&"):
        if not part:
            continue
        name = unquote_plus(part.split("=", 1)[0]).strip().lower()
        if name not in DROPPED:
            kept.append(part)
    return "&".join(kept)


def online_resource(base: str, key: str | None) -> str:
    """The URL written into MapServer's answers: ``…/ows?`` (and ``apikey=…&`` when the client sent one)."""
    url = base + "?"
    if key:
        url += f"apikey={quote(key, safe='')}&"
    return url


@dataclass
class Answer:
    status: int
    media_type: str
    body: bytes
    headers: dict[str, str]


def parse_cgi(out: bytes) -> Answer | None:
    """Split a CGI program's output into its headers and body; None when it wrote no header."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        head, found, body = out.partition(sep)
        if found and b"content-type" in head.lower():
            break
    else:
        return None
    headers: dict[str, str] = {}
    for line in head.decode("latin-1").splitlines():
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    status = 200
    if "status" in headers:
        try:
            status = int(headers["status"].split()[0])
        except ValueError:
            status = 502
    media_type = headers.get("content-type", "application/octet-stream")
    extra = {k: v for k, v in headers.items() if k == "content-disposition"}
    return Answer(status, media_type, body, extra)


class OwsRuntime:
    """The mapfiles of one application (each written on its first request) and the process limit."""

    def __init__(self, url: URL, replica_url: URL | None = None) -> None:
        self.urls = {"primary": url} | ({"replica": replica_url} if replica_url is not None else {})
        self.limiter = anyio.CapacityLimiter(MAX_PROCESSES)
        self._files: dict[str, mapfile.Files] = {}
        self._lock = anyio.Lock()
        _sweep()
        self._directory = Path(tempfile.mkdtemp(prefix=f"{RUN_PREFIX}{os.getpid()}-"))
        weakref.finalize(self, shutil.rmtree, self._directory, True)

    async def files(self, reader, server: str = "primary") -> mapfile.Files:
        if server not in self._files:
            async with self._lock:
                if server not in self._files:
                    box = await _extent(reader)
                    directory = self._directory / server
                    directory.mkdir(exist_ok=True)
                    self._files[server] = await anyio.to_thread.run_sync(
                        mapfile.write, directory, mapfile.conninfo(self.urls[server]), box)
        return self._files[server]

    async def server_for(self, reader) -> str:
        """Where this request reads: the replica when there is one and it is current enough for it."""
        if "replica" in self.urls and isinstance(reader, RoutedReads) and await reader.replica_current():
            return "replica"
        return "primary"

    def environment(self, files: mapfile.Files, query: str, host: str, port: str,
                    server: str = "primary") -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "MAPSERVER_CONFIG_FILE": str(files.config),
            "MS_MAPFILE": str(files.mapfile),
            "REQUEST_METHOD": "GET",
            "QUERY_STRING": query,
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "SERVER_NAME": host,
            "SERVER_PORT": port,
            "SCRIPT_NAME": "/ows",
        }
        for name in ("PROJ_DATA", "PROJ_LIB", "GDAL_DATA", "TZ"):
            if name in os.environ:
                env[name] = os.environ[name]
        password = self.urls[server].password
        if password:
            env["PGPASSWORD"] = password  # not in the mapfile, not in MapServer's messages
        return env

    async def run(self, reader, query: str, base: str, key: str | None, host: str, port: str) -> Answer:
        binary = mapserv_path()
        if binary is None:
            raise OwsUnavailable(message("ows_unavailable"))
        server = await self.server_for(reader)
        files = await self.files(reader, server)
        env = self.environment(files, query_for_mapserver(query), host, port, server)
        async with self.limiter:
            try:
                with anyio.fail_after(TIMEOUT_S):
                    done = await anyio.run_process([binary], env=env, check=False, stderr=subprocess.PIPE)
            except TimeoutError:
                raise OwsUnavailable(message("ows_timeout", seconds=TIMEOUT_S)) from None
            except OSError as exc:
                log.error("mapserv could not be started: %s", exc)
                raise OwsUnavailable(message("ows_unavailable")) from None
        answer = parse_cgi(done.stdout)
        if answer is None:
            log.error("mapserv exited %s without an answer: %s", done.returncode,
                      done.stderr.decode("utf-8", "replace")[-500:])
            raise OwsUnavailable(message("ows_failed"))
        if any(t in answer.media_type.lower() for t in REWRITTEN):
            answer.body = rewrite(answer.body, online_resource(base, key))
        return answer


def rewrite(body: bytes, url: str) -> bytes:
    """The mapfile's placeholder URL replaced by ``url`` (XML-escaped, as it appears in XML)."""
    placeholder = mapfile.PLACEHOLDER.encode()
    if placeholder not in body:
        return body
    return body.replace(placeholder, escape(url).encode())


async def _extent(reader) -> tuple[float, float, float, float]:
    """The programme's extent (every public layer's), for the map's EXTENT; Tongxiang's when empty."""
    boxes = []
    for layer in collections().values():
        try:
            box = await extent(reader, layer)
        except AppError:
            box = None
        if box:
            boxes.append(box)
    if not boxes:
        return mapfile.DEFAULT_EXTENT
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
