"""``cloudmap``: the one command-line entry point (serve, db …)."""

from __future__ import annotations

import argparse
import json
import sys

from .core.db import database_url
from .settings import PROJECT_ROOT, Settings, get_settings


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.attributes["url"] = url
    return cfg


def _devdb():
    """The private development cluster (``devdb``), which only a development checkout has."""
    try:
        import devdb
    except ImportError:
        raise SystemExit("cloudmap: DATABASE_URL is not set, and this installation has no development "
                         "cluster (devdb): set DATABASE_URL") from None
    return devdb


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "start":
        print(database_url(settings))
        return 0
    if args.action == "stop":
        if settings.database_url:
            print("DATABASE_URL is set: the private cluster is not in use", file=sys.stderr)
            return 0
        print("stopped" if _devdb().stop(PROJECT_ROOT) else "was not running")
        return 0
    if args.action == "status":
        if settings.database_url:
            print(json.dumps({"database_url": _redact(settings.database_url), "private_cluster": False}))
            return 0
        info = _devdb().status(PROJECT_ROOT, settings.pg_port)
        print(json.dumps(info, ensure_ascii=False, indent=1))
        return 0 if info.get("running") or info.get("shared_with") else 3
    if args.action == "url":
        print(database_url(settings))
        return 0
    url = database_url(settings)
    if args.action == "upgrade":
        from alembic import command

        command.upgrade(alembic_config(url), args.revision or "heads")
        return 0
    if args.action == "downgrade":
        from alembic import command

        command.downgrade(alembic_config(url), args.revision or "base")
        return 0
    if args.action == "seed":
        from .core.db import make_engine, make_sessionmaker
        from .seed import seed

        engine = make_engine(settings, url)
        with make_sessionmaker(engine)() as session:
            counts = seed(session, settings.data_dir)
        engine.dispose()
        print(
            f"demo data: {counts.units} units, {counts.targets} targets, {counts.enterprises} enterprises, "
            f"{counts.blocks} blocks, {counts.parcels} parcels; {counts.changed} rows changed"
        )
        if settings.environment == "development":  # demo accounts never exist in production
            from .auth.demo import seed_demo_users

            with make_sessionmaker(engine)() as session:
                print(f"demo users: {seed_demo_users(session)} created (see README)")
        return 0
    raise AssertionError(args.action)


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """One process, or ``--workers N`` processes sharing the port (uvicorn's supervisor).

    Workers are started by import string (``app.main:create_app``, a factory), so each builds its own
    app, pools and listener from the environment: the resolved DATABASE_URL is put there first.
    """
    import os

    import uvicorn

    url = database_url(settings)
    host, port = args.host or settings.host, args.port or settings.port
    print(f"桐乡工业全域治理云图: http://{host}:{port}/", flush=True)
    # X-Forwarded-For/-Proto believed from the configured proxies only (uvicorn's default trusts 127.0.0.1)
    proxies = {"proxy_headers": bool(settings.trusted_proxies),
               "forwarded_allow_ips": ",".join(settings.trusted_proxies) or None}
    if args.workers > 1:
        os.environ["DATABASE_URL"] = url
        # A worker importing the app on a busy 2-core server answers the supervisor's ping late:
        # uvicorn's 5 s would restart it as dead.
        uvicorn.run("app.main:create_app", factory=True, workers=args.workers, host=host, port=port,
                    log_level="info", access_log=args.access_log, timeout_worker_healthcheck=60, **proxies)
        return 0
    from .main import create_app

    uvicorn.run(
        create_app(settings.model_copy(update={"database_url": url})),
        host=host,
        port=port,
        log_level="info",
        access_log=args.access_log,
        **proxies,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cloudmap", description="桐乡工业全域治理云图")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the map and the API")
    serve.add_argument("--host", default=None, help="bind address (default: CLOUDMAP_HOST, 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default: CLOUDMAP_PORT, 8000)")
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.add_argument("--workers", type=int, default=1,
                       help="worker processes sharing the port (each with its own pools; docs/deployment.md)")
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database: private cluster, migrations, demo data")
    db.add_argument("action", choices=["start", "stop", "status", "url", "upgrade", "downgrade", "seed"])
    db.add_argument("revision", nargs="?", help="Alembic revision for upgrade/downgrade")
    db.set_defaults(func=cmd_db)

    from .auth.cli import add_parser as add_users_parser

    add_users_parser(sub)

    from .ogc.cli import add_parser as add_apikeys_parser

    add_apikeys_parser(sub)

    from .progress.cli import add_parser as add_progress_parser

    add_progress_parser(sub)

    from .ingest.cli import add_parser as add_import_parser

    add_import_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args, get_settings())
    except _cluster_errors() as exc:  # the CLI prints one clear line, not a traceback
        print(f"cloudmap: {exc}", file=sys.stderr)
        return 2


def _cluster_errors() -> tuple[type[Exception], ...]:
    try:
        from devdb import ClusterError
    except ImportError:  # a production installation: no development cluster
        return ()
    return (ClusterError,)


if __name__ == "__main__":
    sys.exit(main())
