"""The checkout's private PostgreSQL + PostGIS cluster (used when DATABASE_URL is unset).

Layout, per checkout (``<root>/var`` is git-ignored)::

    var/pg          data directory (or, see below, a symlink to it)
    var/pg.log      server log (pg_ctl -l)
    var/pg.lock     flock taken by start()/stop(), so concurrent callers never both initdb
    var/pg.ensured  "<postmaster start time> <port>" once role/database/PostGIS are checked

The server listens on 127.0.0.1 only, on a fixed non-default port (54329, or
``CLOUDMAP_PG_PORT``), with ``trust`` authentication for loopback connections
and no Unix socket. The ``cloudmap`` role is the cluster's bootstrap superuser,
and the ``cloudmap`` database has the PostGIS extension.

As root: initdb and postgres refuse to run as root, so every server binary runs
as the system user ``cloudmap-pg`` (created when missing), or as the owner of an
existing data directory when that is an ordinary user. If ``cloudmap-pg`` cannot
traverse the checkout (for example a clone under /root, mode 700), the data
directory goes to ``/var/lib/cloudmap-pg/<sha1(root)[:12]>/pg`` (log next to it)
and ``var/pg`` and ``var/pg.log`` become symlinks to them, so every checkout
still has its own cluster.

As an ordinary user, the binaries run directly as that user.

If the port is taken while this checkout's cluster is not running, and what
listens there is a PostgreSQL that accepts ``cloudmap`` on 127.0.0.1 and has
PostGIS (usually another checkout's private cluster), that server is reused:
start() returns its URL and prints a note, and status() names it in
``shared_with``.

Standard library only, except psycopg (imported lazily) to create the database
and the extension and to read versions.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

DEFAULT_PORT = 54329
DB_NAME = "cloudmap"
DB_USER = "cloudmap"

SERVER_USER = "cloudmap-pg"
PORT_ENV = "CLOUDMAP_PG_PORT"
RELOCATED_BASE = Path("/var/lib/cloudmap-pg")
PG_LIB_ROOT = Path("/usr/lib/postgresql")
PG_SHARE_ROOT = Path("/usr/share/postgresql")

_HOST = "127.0.0.1"
_CONF_FILE = "cloudmap.conf"
_INCLUDE_LINE = f"include_if_exists = '{_CONF_FILE}'"
_START_TIMEOUT = 90  # seconds pg_ctl waits for the server to become ready
_LOCK_TIMEOUT = 300  # seconds to wait for another start()/stop() of this checkout
_LOG_ROTATE_BYTES = 20 * 1024 * 1024
_SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")

_PG_HBA = """\
# Managed by devdb/cluster.py: trust authentication, loopback only.
# TYPE  DATABASE        USER            ADDRESS                 METHOD
local   all             all                                     trust
host    all             all             127.0.0.1/32            trust
host    all             all             ::1/128                 trust
local   replication     all                                     trust
host    replication     all             127.0.0.1/32            trust
host    replication     all             ::1/128                 trust
"""


class ClusterError(RuntimeError):
    """The private cluster cannot be installed, started or reached.

    The message says what is wrong and what to do about it.
    """


# --------------------------------------------------------------------------- #
# Small public helpers


def configured_port() -> int:
    """The port of the private cluster: ``$CLOUDMAP_PG_PORT`` or DEFAULT_PORT."""
    raw = os.environ.get(PORT_ENV, "").strip()
    if not raw:
        return DEFAULT_PORT
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if not 1024 <= port <= 65535:
        raise ClusterError(
            f"{PORT_ENV}={raw!r} is not a usable port. Set it to a number between "
            f"1024 and 65535, or unset it to use the default port {DEFAULT_PORT}."
        )
    return port


def server_url(port: int | None = None, dbname: str = "postgres") -> str:
    """SQLAlchemy URL of database *dbname* on the private cluster.

    *port* defaults to configured_port().
    """
    if port is None:
        port = configured_port()
    return f"postgresql+psycopg://{DB_USER}@{_HOST}:{port}/{dbname}"


def data_dir(root: Path) -> Path:
    """``<root>/var/pg``: the data directory, or a symlink to it."""
    return _var(root) / "pg"


# --------------------------------------------------------------------------- #
# Finding and installing PostgreSQL + PostGIS


def _version_key(ver: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in ver.split("."))
    except ValueError:
        return (-1,)


def _installed_server_versions() -> list[str]:
    """Major versions with initdb, pg_ctl and postgres installed, newest first."""
    found = []
    if PG_LIB_ROOT.is_dir():
        for entry in PG_LIB_ROOT.iterdir():
            bindir = entry / "bin"
            if all(os.access(bindir / name, os.X_OK) for name in _SERVER_BINARIES):
                found.append(entry.name)
    return sorted(found, key=_version_key, reverse=True)


def _has_postgis(ver: str) -> bool:
    return (PG_SHARE_ROOT / ver / "extension" / "postgis.control").is_file()


def _distro_default_version() -> str | None:
    """The major version the distribution's ``postgresql`` package pulls in."""
    if not shutil.which("apt-cache"):
        return None
    try:
        out = subprocess.run(
            ["apt-cache", "show", "--no-all-versions", "postgresql"],
            capture_output=True, text=True, timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        if line.startswith("Depends:"):
            for dep in line.split(":", 1)[1].split(","):
                name = dep.strip().split(" ")[0]
                if name.startswith("postgresql-") and _version_key(name[11:]) != (-1,):
                    return name[11:]
    return None


def _target_version() -> str | None:
    """Which major version to add PostGIS to: the newest installed server, else
    the distribution default (None when the apt lists are empty)."""
    installed = _installed_server_versions()
    return installed[0] if installed else _distro_default_version()


def _install_packages(ver: str | None) -> list[str]:
    return ["postgresql", f"postgresql-{ver or '<version>'}-postgis-3"]


def find_pg_bindir(version: str | None = None) -> Path:
    """Directory with initdb, pg_ctl and postgres of a PostgreSQL that has PostGIS.

    Looks in /usr/lib/postgresql/*/bin, newest version first, or only at
    *version* when given. Raises ClusterError when there is none.
    """
    installed = _installed_server_versions()
    candidates = [version] if version else installed
    for ver in candidates:
        if ver in installed and _has_postgis(ver):
            return PG_LIB_ROOT / ver / "bin"
    if version:
        pkgs = (["postgresql-" + version] if version not in installed else []) + [
            f"postgresql-{version}-postgis-3"
        ]
        raise ClusterError(
            f"PostgreSQL {version} with PostGIS is needed but not installed "
            f"(server versions found: {', '.join(installed) or 'none'}). Install it with: "
            f"sudo apt-get install -y {' '.join(pkgs)}"
        )
    if installed:
        raise ClusterError(
            f"PostgreSQL {', '.join(installed)} is installed but without PostGIS. "
            f"Install it with: sudo apt-get install -y postgresql-{installed[0]}-postgis-3 "
            "(or set DATABASE_URL to use another database)."
        )
    pkgs = " ".join(_install_packages(_distro_default_version()))
    raise ClusterError(
        "The PostgreSQL server is not installed. Install it with PostGIS: "
        f"sudo apt-get install -y {pkgs} "
        "(or run scripts/setup.sh, or set DATABASE_URL to use another database)."
    )


def _stream_target() -> int | None:
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return None


def ensure_installed(auto_install: bool = True) -> Path:
    """find_pg_bindir(), installing PostgreSQL + PostGIS with apt-get first when
    they are missing and we are root. Raises ClusterError otherwise."""
    try:
        return find_pg_bindir()
    except ClusterError:
        if not auto_install:
            raise
    ver = _target_version()
    if os.geteuid() != 0:
        raise ClusterError(
            "PostgreSQL with PostGIS is not installed and installing it needs root. Run: "
            f"sudo apt-get install -y {' '.join(_install_packages(ver))} "
            "(or scripts/setup.sh as root), or set DATABASE_URL to use another database."
        )
    if not shutil.which("apt-get"):
        raise ClusterError(
            "PostgreSQL with PostGIS 3 is not installed and apt-get is not available. "
            "Install a PostgreSQL server and PostGIS 3 with your package manager, "
            "or set DATABASE_URL to use another database."
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    out = _stream_target()

    def apt(*args: str) -> int:
        print(f"devdb: apt-get {' '.join(args)}", file=sys.stderr, flush=True)
        return subprocess.run(
            ["apt-get", *args], env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out
        ).returncode

    updated = False
    if ver is None:  # empty apt lists: cannot even tell the distro's default version
        apt("update")
        updated = True
        ver = _target_version()
        if ver is None:
            raise ClusterError(
                "apt-get knows no 'postgresql' package. Check /etc/apt/sources.list, then "
                "install PostgreSQL and PostGIS 3, or set DATABASE_URL."
            )
    pkgs = _install_packages(ver)
    rc = apt("install", "-y", *pkgs)
    if rc != 0 and not updated:
        apt("update")
        rc = apt("install", "-y", *pkgs)
    if rc != 0:
        raise ClusterError(
            f"'apt-get install -y {' '.join(pkgs)}' failed (exit {rc}); see its output above. "
            "Fix the apt problem and retry, or set DATABASE_URL to use another database."
        )
    return find_pg_bindir()


# --------------------------------------------------------------------------- #
# Paths, lock, users


def _var(root: Path) -> Path:
    return Path(root).resolve() / "var"


def _relocated_home(root: Path) -> Path:
    digest = hashlib.sha1(str(Path(root).resolve()).encode()).hexdigest()[:12]
    return RELOCATED_BASE / digest


def _real_data_dir(root: Path) -> Path:
    return Path(os.path.realpath(data_dir(root)))


def _log_file(root: Path) -> Path:
    return _real_data_dir(root).parent / "pg.log"


def _stamp_file(root: Path) -> Path:
    return _var(root) / "pg.ensured"


def _set_stamp(root: Path, value: str | None) -> None:
    """Record (or forget) that role/database/PostGIS were checked for the running
    postmaster. Only an optimisation, so failures are ignored."""
    stamp = _stamp_file(root)
    try:
        stamp.unlink(missing_ok=True)
        if value is not None:
            stamp.write_text(value)
    except OSError:
        pass


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    var = _var(root)
    try:
        var.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(var / "pg.lock", os.O_RDWR | os.O_CREAT, 0o644)
        except PermissionError:
            fd = os.open(var / "pg.lock", os.O_RDONLY)  # flock works on it too
    except OSError as exc:
        raise ClusterError(
            f"Cannot create {var}/pg.lock ({exc.strerror}). The checkout must be writable "
            "by the user who runs the app."
        ) from exc
    try:
        deadline = time.monotonic() + _LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ClusterError(
                        f"Another process has held {var}/pg.lock for {_LOCK_TIMEOUT} s. "
                        "Wait for it to finish or kill it, then retry."
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock


def _is_root() -> bool:
    return os.geteuid() == 0


def _ensure_server_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        pass
    if not shutil.which("useradd"):
        raise ClusterError(
            f"Running as root needs the unprivileged user {SERVER_USER!r} for PostgreSQL, and "
            "useradd is not available. Create that user, or run as an ordinary user."
        )
    proc = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
        capture_output=True, text=True,
    )
    try:  # a concurrent useradd (another checkout) may have won the race
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise ClusterError(
            f"Could not create the system user {SERVER_USER!r}: {proc.stderr.strip()}. Create it "
            f"with: useradd --system --no-create-home --shell /usr/sbin/nologin {SERVER_USER}"
        ) from None


def _clean_env(user: pwd.struct_passwd | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    env.pop("LANGUAGE", None)
    if user is not None:
        env.update(HOME="/", USER=user.pw_name, LOGNAME=user.pw_name)
    return env


def _run_server_binary(
    argv: list[str], user: pwd.struct_passwd | None, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL binary, as *user* when we are root (user None: ourselves)."""
    kwargs: dict = {}
    if user is not None and user.pw_uid != os.geteuid():
        if shutil.which("runuser"):
            argv = ["runuser", "-u", user.pw_name, "--", *argv]
        elif shutil.which("setpriv"):
            argv = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}",
                    "--init-groups", "--", *argv]
        else:
            kwargs = dict(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
    try:
        return subprocess.run(
            argv, cwd="/", env=_clean_env(user), stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=timeout, **kwargs,
        )
    except subprocess.TimeoutExpired as exc:
        raise ClusterError(f"{' '.join(argv)} did not finish within {timeout:.0f} s.") from exc


def _user_can_traverse(user: pwd.struct_passwd, path: Path) -> bool:
    return _run_server_binary(["test", "-x", str(path)], user, timeout=30).returncode == 0


def _chown(path: Path, user: pwd.struct_passwd) -> None:
    os.chown(path, user.pw_uid, user.pw_gid, follow_symlinks=False)


# --------------------------------------------------------------------------- #
# Inspecting a data directory


def _pid_is_postgres(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, belongs to someone else
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # cannot tell; trust the pid file
    return b"postgres" in cmdline or b"postmaster" in cmdline


def _read_pidfile(real: Path) -> dict | None:
    """Parse postmaster.pid; None when there is none. PermissionError propagates."""
    try:
        lines = (real / "postmaster.pid").read_text().splitlines()
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        return {
            "pid": int(lines[0]),
            "start": lines[2].strip(),
            "port": int(lines[3]),
            "state": lines[7].strip() if len(lines) > 7 else "",
        }
    except (IndexError, ValueError):
        return {"pid": int(lines[0]) if lines and lines[0].isdigit() else 0,
                "start": "", "port": 0, "state": "starting"}


def _running_info(real: Path) -> dict | None:
    info = _read_pidfile(real)
    if info is None or info["pid"] <= 0 or not _pid_is_postgres(info["pid"]):
        return None
    return info


def _pg_version_of(real: Path) -> str | None:
    try:
        return (real / "PG_VERSION").read_text().strip() or None
    except (FileNotFoundError, NotADirectoryError):
        return None


def _port_in_use(port: int) -> bool:
    """Whether something listens on 127.0.0.1:port (or on the wildcard address)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((_HOST, port))
        except OSError:
            return True
    return False


def _accepts_tcp(port: int) -> bool:
    try:
        with socket.create_connection((_HOST, port), timeout=1):
            return True
    except OSError:
        return False


def _log_tail(log: Path, lines: int = 15) -> str:
    try:
        text = log.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return "\n  " + "\n  ".join(text) if text else ""


# --------------------------------------------------------------------------- #
# SQL side (psycopg, imported lazily so that status() of a stopped cluster and
# the quick path of start() stay cheap)


def _connect(port: int, dbname: str, user: str = DB_USER, timeout: int = 5):
    import psycopg

    return psycopg.connect(
        host=_HOST, port=port, user=user, dbname=dbname,
        connect_timeout=timeout, autocommit=True,
    )


def _ensure_database(port: int, bootstrap_user: str | None = None) -> None:
    """Make sure role cloudmap, database cloudmap and PostGIS in it exist."""
    import psycopg
    from psycopg import errors, sql

    try:
        admin = _connect(port, "postgres")
    except psycopg.OperationalError as exc:
        msg = str(exc)
        if f'role "{DB_USER}" does not exist' not in msg or not bootstrap_user:
            raise ClusterError(
                f"Cannot connect to {server_url(port)}: {msg.strip()}") from exc
        with _connect(port, "postgres", user=bootstrap_user) as boot:
            boot.execute(sql.SQL("CREATE ROLE {} SUPERUSER LOGIN").format(sql.Identifier(DB_USER)))
        admin = _connect(port, "postgres")
    with admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone():
            try:
                admin.execute(sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8' TEMPLATE template0")
                              .format(sql.Identifier(DB_NAME), sql.Identifier(DB_USER)))
            except errors.DuplicateDatabase:
                pass  # created concurrently
            except psycopg.Error as exc:
                raise ClusterError(
                    f"Cannot create database {DB_NAME} on port {port}: {str(exc).strip()}") from exc
    with _connect(port, DB_NAME) as conn:
        if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone():
            return
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        except (errors.UniqueViolation, errors.DuplicateObject):
            pass  # created concurrently by someone else
        except psycopg.Error as exc:
            raise ClusterError(
                f"CREATE EXTENSION postgis failed on port {port}: {str(exc).strip()}. "
                "Is the PostGIS package for this PostgreSQL version installed?"
            ) from exc


def _describe_server(port: int) -> dict | None:
    """Versions and data directory of the PostgreSQL on *port*, if it accepts
    cloudmap@127.0.0.1; None if it does not (or is not PostgreSQL)."""
    try:
        conn = _connect(port, "postgres", timeout=3)
    except Exception:
        return None
    info: dict = {"data_directory": None, "postgres_version": None,
                  "postgis_version": None, "postgis_available": False}
    with conn:
        row = conn.execute("SHOW server_version").fetchone()
        info["postgres_version"] = row[0].split()[0] if row else None
        try:
            info["data_directory"] = conn.execute("SHOW data_directory").fetchone()[0]
        except Exception:
            pass
        row = conn.execute(
            "SELECT default_version FROM pg_available_extensions WHERE name = 'postgis'"
        ).fetchone()
        if row:
            info["postgis_available"] = True
            info["postgis_version"] = row[0]
    try:
        with _connect(port, DB_NAME, timeout=3) as conn:
            row = conn.execute(
                "SELECT extversion FROM pg_extension WHERE extname = 'postgis'").fetchone()
            if row:
                info["postgis_version"] = row[0]
    except Exception:
        pass
    return info


def _shared_label(port: int, desc: dict) -> str:
    where = f"{_HOST}:{port}"
    return f"{where} (data directory {desc['data_directory']})" if desc["data_directory"] else where


# --------------------------------------------------------------------------- #
# start / stop / status


def _server_user_for(real: Path) -> pwd.struct_passwd | None:
    """Who runs the server binaries: None = ourselves (non-root)."""
    if not _is_root():
        return None
    try:
        uid = real.stat().st_uid
    except FileNotFoundError:
        uid = 0
    if uid != 0:
        try:
            return pwd.getpwuid(uid)
        except KeyError:
            raise ClusterError(
                f"{real} belongs to uid {uid}, which has no user name. Fix its ownership "
                f"(chown -R {SERVER_USER} {real}) or move it away to create a fresh cluster."
            ) from None
    return _ensure_server_user()


def _check_ownership(root: Path, real: Path) -> None:
    """Non-root: the data directory must be ours."""
    if _is_root():
        return
    try:
        st = real.stat()
    except FileNotFoundError:
        return
    except PermissionError:
        st = None
    if st is None or st.st_uid != os.geteuid():
        owner = "another user"
        if st is not None:
            try:
                owner = f"user {pwd.getpwuid(st.st_uid).pw_name!r}"
            except KeyError:
                owner = f"uid {st.st_uid}"
        raise ClusterError(
            f"The private cluster {data_dir(root)} belongs to {owner} (it was probably created "
            "by running as root). Run as root again (e.g. sudo make run), or remove "
            f"{data_dir(root)} to create a cluster owned by you (its data is lost)."
        )


def _prepare_data_dir(root: Path, user: pwd.struct_passwd | None) -> Path:
    """Create the (empty) data directory with the right owner; returns its real path."""
    link = data_dir(root)
    var = link.parent
    if link.is_symlink():
        real = _real_data_dir(root)
        if real.parent.parent == RELOCATED_BASE and user is not None:
            RELOCATED_BASE.mkdir(mode=0o755, parents=True, exist_ok=True)
            real.parent.mkdir(mode=0o700, exist_ok=True)
            _chown(real.parent, user)
            (real.parent / "checkout").write_text(f"{Path(root).resolve()}\n")
    elif link.exists():
        real = link
    elif user is not None and not _user_can_traverse(user, var):
        home = _relocated_home(root)
        print(f"devdb: {user.pw_name} cannot reach {var}; keeping the data directory in "
              f"{home} (var/pg links there)", file=sys.stderr, flush=True)
        RELOCATED_BASE.mkdir(mode=0o755, parents=True, exist_ok=True)
        home.mkdir(mode=0o700, exist_ok=True)
        _chown(home, user)
        (home / "checkout").write_text(f"{Path(root).resolve()}\n")
        real = home / "pg"
        link.symlink_to(real)
        log_link = var / "pg.log"
        if not log_link.exists() and not log_link.is_symlink():
            log_link.symlink_to(home / "pg.log")
    else:
        real = link
    real.mkdir(mode=0o700, parents=True, exist_ok=True)
    if any(real.iterdir()):
        raise ClusterError(
            f"{real} exists but is not a PostgreSQL data directory (no PG_VERSION). Move it "
            "away or delete it, then retry."
        )
    if user is not None:
        _chown(real, user)
    os.chmod(real, 0o700)
    return real


def _initdb(bindir: Path, real: Path, user: pwd.struct_passwd | None) -> None:
    ver = bindir.parent.name
    print(f"devdb: initialising a PostgreSQL {ver} cluster in {real}", file=sys.stderr, flush=True)
    base = [str(bindir / "initdb"), "-D", str(real), "-U", DB_USER, "--auth-local=trust",
            "--auth-host=trust", "-E", "UTF8"]
    errors = []
    for locale in ("C.UTF-8", "C"):
        proc = _run_server_binary([*base, f"--locale={locale}"], user, timeout=300)
        if proc.returncode == 0:
            break
        errors.append((proc.stdout + proc.stderr).strip())
    else:
        raise ClusterError(f"initdb failed for {real}:\n" + "\n".join(dict.fromkeys(errors)))
    (real / "pg_hba.conf").write_text(_PG_HBA)
    conf = real / "postgresql.conf"
    with conf.open("a") as fh:
        fh.write(f"\n# Settings managed by devdb/cluster.py (rewritten at every start):\n{_INCLUDE_LINE}\n")


def _write_config(real: Path, port: int, user: pwd.struct_passwd | None) -> None:
    conf = real / "postgresql.conf"
    text = conf.read_text()
    if _INCLUDE_LINE not in text:
        conf.write_text(text + f"\n# Settings managed by devdb/cluster.py:\n{_INCLUDE_LINE}\n")
    dsm = "posix"
    try:
        st = os.statvfs("/dev/shm")
        if st.f_bavail * st.f_frsize < 512 * 1024 * 1024:
            dsm = "mmap"  # tiny /dev/shm (containers): parallel queries would fail
    except OSError:
        dsm = "mmap"
    managed = real / _CONF_FILE
    managed.write_text(f"""\
# Managed by devdb/cluster.py and rewritten at every start; use ALTER SYSTEM
# (postgresql.auto.conf) for local overrides.
listen_addresses = '{_HOST}'
port = {port}
unix_socket_directories = ''
max_connections = 100
shared_buffers = 256MB
effective_cache_size = 1GB
work_mem = 16MB
maintenance_work_mem = 128MB
max_worker_processes = 4
max_parallel_workers = 2
max_parallel_workers_per_gather = 1
max_parallel_maintenance_workers = 1
dynamic_shared_memory_type = {dsm}
jit = off
fsync = on
log_line_prefix = '%m [%p] %q%u@%d '
""")
    if user is not None:
        for path in (conf, managed, real / "pg_hba.conf"):
            _chown(path, user)


def _prepare_log(log: Path, user: pwd.struct_passwd | None) -> None:
    try:
        if log.stat().st_size > _LOG_ROTATE_BYTES:
            log.replace(log.with_name(log.name + ".1"))
    except FileNotFoundError:
        pass
    log.touch(mode=0o640, exist_ok=True)
    if user is not None:
        _chown(log, user)


def _remove_stale_pidfile(real: Path) -> None:
    info = _read_pidfile(real)
    if info is not None and not (info["pid"] > 0 and _pid_is_postgres(info["pid"])):
        (real / "postmaster.pid").unlink(missing_ok=True)


def _wait_while_transitioning(real: Path) -> dict | None:
    """Wait for a server that is starting or stopping (e.g. by hand) to settle."""
    deadline = time.monotonic() + _START_TIMEOUT
    info = _running_info(real)
    while info is not None and info["state"] != "ready" and time.monotonic() < deadline:
        time.sleep(0.1)
        info = _running_info(real)
    return info


def _reuse_shared(root: Path, port: int) -> str:
    desc = _describe_server(port)
    if desc is None or not desc["postgis_available"]:
        what = ("a PostgreSQL without PostGIS" if desc else
                f"something that is not a PostgreSQL accepting {DB_USER}@{_HOST} without a password")
        raise ClusterError(
            f"Port {port} on {_HOST} is taken by {what}, so this checkout's private PostgreSQL "
            f"cannot start there. Pick another port, e.g. export {PORT_ENV}={port + 1}, "
            "or stop whatever uses the port."
        )
    _ensure_database(port)
    print(f"devdb: note: port {port} is already served by another private PostgreSQL "
          f"({_shared_label(port, desc)}); this checkout shares it. Set {PORT_ENV} to run a "
          "cluster of its own.", file=sys.stderr, flush=True)
    return server_url(port, DB_NAME)


def start(root: Path, port: int | None = None) -> str:
    """Start (initialising if needed) the private cluster of checkout *root*.

    Idempotent and quick when it already runs. *port* defaults to
    configured_port(). Returns the SQLAlchemy URL of the cloudmap database.
    """
    if port is None:
        port = configured_port()
    root = Path(root).resolve()
    url = server_url(port, DB_NAME)
    with _locked(root):
        real = _real_data_dir(root)
        _check_ownership(root, real)
        info = _wait_while_transitioning(real)
        if info is not None:
            if info["port"] != port:
                raise ClusterError(
                    f"This checkout's private PostgreSQL already runs on port {info['port']}, "
                    f"not on the requested port {port}. Stop it first (make db-stop, or cloudmap db stop), or use "
                    f"the same port ({PORT_ENV}={info['port']})."
                )
            stamp = f"{info['start']} {port}"
            stamp_file = _stamp_file(root)
            try:
                if stamp_file.read_text() == stamp and _accepts_tcp(port):
                    return url
            except OSError:
                pass
            _ensure_database(port)
            _set_stamp(root, stamp)
            return url

        _set_stamp(root, None)
        if _port_in_use(port):
            return _reuse_shared(root, port)

        version = _pg_version_of(real)
        if version:
            try:
                bindir = find_pg_bindir(version)
            except ClusterError:
                ensure_installed()
                bindir = find_pg_bindir(version)
        else:
            bindir = ensure_installed()
        user = _server_user_for(real)
        if not version:
            real = _prepare_data_dir(root, user)
            _initdb(bindir, real, user)
        _write_config(real, port, user)
        _remove_stale_pidfile(real)
        log = _log_file(root)
        _prepare_log(log, user)
        print(f"devdb: starting PostgreSQL {bindir.parent.name} on {_HOST}:{port} "
              f"(log: {log})", file=sys.stderr, flush=True)
        proc = _run_server_binary(
            [str(bindir / "pg_ctl"), "-D", str(real), "-l", str(log), "-w",
             "-t", str(_START_TIMEOUT), "start"],
            user, timeout=_START_TIMEOUT + 30,
        )
        info = _running_info(real)
        if proc.returncode != 0 or info is None:
            if info is None and _port_in_use(port):
                # Lost a race with another checkout starting on the same port.
                return _reuse_shared(root, port)
            raise ClusterError(
                f"PostgreSQL did not start (pg_ctl exit {proc.returncode}): "
                f"{(proc.stdout + proc.stderr).strip()}\nLast lines of {log}:{_log_tail(log)}"
            )
        _ensure_database(port, bootstrap_user=user.pw_name if user else pwd.getpwuid(os.geteuid()).pw_name)
        _set_stamp(root, f"{info['start']} {port}")
        return url


def stop(root: Path) -> bool:
    """Fast shutdown of this checkout's cluster; True if it was running.

    A shared cluster of another checkout is never stopped.
    """
    root = Path(root).resolve()
    with _locked(root):
        real = _real_data_dir(root)
        _check_ownership(root, real)
        info = _running_info(real)
        _set_stamp(root, None)
        if info is None:
            return False
        version = _pg_version_of(real)
        try:
            bindir = find_pg_bindir(version) if version else None
        except ClusterError:
            bindir = None
        if bindir is not None:
            proc = _run_server_binary(
                [str(bindir / "pg_ctl"), "-D", str(real), "-m", "fast", "-w", "-t", "60", "stop"],
                _server_user_for(real), timeout=90,
            )
            if proc.returncode != 0 and _running_info(real) is not None:
                raise ClusterError(
                    f"pg_ctl stop failed: {(proc.stdout + proc.stderr).strip()}"
                    f"\nLast lines of {_log_file(root)}:{_log_tail(_log_file(root))}"
                )
        else:  # binaries gone: SIGINT is what pg_ctl -m fast sends
            os.kill(info["pid"], signal.SIGINT)
            deadline = time.monotonic() + 60
            while _running_info(real) is not None:
                if time.monotonic() > deadline:
                    raise ClusterError(f"PostgreSQL (pid {info['pid']}) did not stop within 60 s.")
                time.sleep(0.1)
        return True


def status(root: Path, port: int | None = None) -> dict:
    """What the private cluster of *root* is doing; never starts or installs anything.

    Keys: initialised, running, port, data_dir, url, postgres_version,
    postgis_version, shared_with, log_file. ``running`` is about this
    checkout's own cluster; ``shared_with`` is set when it is not running and
    another compatible PostgreSQL serves the port.
    """
    if port is None:
        port = configured_port()
    real = _real_data_dir(root)
    result: dict = {
        "initialised": False, "running": False, "port": port, "data_dir": str(real),
        "url": None, "postgres_version": None, "postgis_version": None,
        "shared_with": None, "log_file": str(_log_file(root)),
    }
    try:
        version = _pg_version_of(real)
        info = _running_info(real)
        result["initialised"] = version is not None
    except PermissionError:  # owned by another user: judge from outside
        version, info = None, None
        result["initialised"] = True
    if info is not None:
        result["running"] = True
        result["port"] = info["port"]
        result["url"] = server_url(info["port"], DB_NAME)
        desc = _describe_server(info["port"]) if info["state"] == "ready" else None
    elif _port_in_use(port):
        desc = _describe_server(port)
        if desc is not None and desc["data_directory"] and (
                os.path.realpath(desc["data_directory"]) == str(real)):
            # Our own cluster, whose postmaster.pid we may not read (another owner).
            result["running"] = True
            result["url"] = server_url(port, DB_NAME)
        elif desc is not None and desc["postgis_available"]:
            result["shared_with"] = _shared_label(port, desc)
            result["url"] = server_url(port, DB_NAME)
        else:
            desc = None
    else:
        desc = None
    if desc is not None:
        result["postgres_version"] = desc["postgres_version"]
        result["postgis_version"] = desc["postgis_version"]
    elif version:
        result["postgres_version"] = version
    return result
