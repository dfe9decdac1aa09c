"""``cloudmap users create|list|set-password|disable``."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from sqlalchemy import select

from ..messages import message
from ..settings import Settings
from .roles import Role


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("密码: ")
    if getpass.getpass("再输入一次: ") != first:
        raise SystemExit("cloudmap: " + message("password_mismatch"))
    return first


def add_parser(sub) -> None:
    users = sub.add_parser("users", help="accounts: create, list, set-password, disable")
    actions = users.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a user (password asked twice, or --password-stdin)")
    create.add_argument("username")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--unit", help="unit code, required for unit_officer (e.g. chongfu)")
    create.add_argument("--name", help="display name")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    actions.add_parser("list", help="list users")
    setpw = actions.add_parser("set-password", help="set a user's password (ends their sessions, lifts a lockout)")
    setpw.add_argument("username")
    setpw.add_argument("--password-stdin", action="store_true")
    disable = actions.add_parser("disable", help="disable a user (ends their sessions)")
    disable.add_argument("username")
    users.set_defaults(func=cmd_users)


def cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    from ..core.db import database_url, make_engine, make_sessionmaker
    from ..errors import AppError
    from ..core import audit
    from . import service
    from .models import User

    engine = make_engine(settings, database_url(settings))
    try:
        with make_sessionmaker(engine)() as session:
            audit.set_actor(session, None, f"cli:{os.environ.get('USER') or getpass.getuser()}"[:64])
            try:
                if args.action == "create":
                    user = service.create_user(session, username=args.username, role=args.role,
                                               password=_password(args), display_name=args.name,
                                               unit_code=args.unit)
                    print(f"created {user.username} ({user.role.value}{', ' + args.unit if args.unit else ''})")
                elif args.action == "list":
                    for user in session.scalars(select(User).order_by(User.username)):
                        unit = user.unit.code if user.unit else "-"
                        state = "active" if user.is_active else "disabled"
                        print(f"{user.username}\t{user.role.value}\t{unit}\t{state}\t{user.display_name}")
                elif args.action == "set-password":
                    service.set_password(session, service.get_user(session, args.username), _password(args))
                    print(f"password set for {args.username}")
                elif args.action == "disable":
                    service.disable_user(session, service.get_user(session, args.username))
                    print(f"disabled {args.username}")
            except AppError as exc:
                detail = "；".join(e.message for e in exc.errors) if exc.errors else ""
                print(f"cloudmap: {exc.detail}{'：' + detail if detail and detail not in exc.detail else ''}",
                      file=sys.stderr)
                return 1
    finally:
        engine.dispose()
    return 0
