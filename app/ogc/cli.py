"""``cloudmap apikeys create|list|revoke``: keys for other departments' systems."""

from __future__ import annotations

import argparse
import json


def add_parser(sub) -> None:
    keys = sub.add_parser("apikeys", help="API keys for the read-only OGC API (/ogc)")
    actions = keys.add_subparsers(dest="apikeys_action", required=True)
    create = actions.add_parser("create", help="create a key; it is printed once and never stored")
    create.add_argument("name", help="who holds it, e.g. 市场监管局 企业画像系统")
    create.add_argument("--rate", type=int, default=None,
                        help="requests per minute (default: CLOUDMAP_OGC_DEFAULT_RATE_LIMIT_PER_MINUTE)")
    actions.add_parser("list", help="list keys (never the secrets)")
    revoke = actions.add_parser("revoke", help="revoke a key by id, prefix or the key itself")
    revoke.add_argument("key")
    keys.set_defaults(func=cmd_apikeys)


def cmd_apikeys(args: argparse.Namespace, settings) -> int:
    from ..core.db import database_url, make_engine, make_sessionmaker
    from ..core.uow import unit_of_work
    from .apikeys import create_key, list_keys, revoke_key

    engine = make_engine(settings, database_url(settings))
    try:
        with make_sessionmaker(engine)() as session, unit_of_work(session):
            if args.apikeys_action == "create":
                rate = args.rate or settings.ogc_default_rate_limit_per_minute
                if rate <= 0:
                    print("cloudmap: --rate must be a positive number of requests per minute")
                    return 2
                new = create_key(session, args.name.strip(), rate)
                print(json.dumps({"id": new.id, "name": new.name, "key": new.key,
                                  "rate_limit_per_minute": new.rate_limit_per_minute}, ensure_ascii=False))
                print("请妥善保存：此密钥只显示这一次。调用时放在请求头 X-API-Key、地址参数 apikey 或 HTTP Basic 认证的密码中。", flush=True)
                return 0
            if args.apikeys_action == "list":
                for k in list_keys(session):
                    print(json.dumps({
                        "id": k.id, "name": k.name, "prefix": k.prefix,
                        "rate_limit_per_minute": k.rate_limit_per_minute,
                        "created_at": k.created_at.isoformat(),
                        "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
                    }, ensure_ascii=False))
                return 0
            n = revoke_key(session, args.key.strip())
            if n == 0:
                print("cloudmap: no active key matches (already revoked, or unknown id/prefix)")
                return 1
            print(f"revoked {n} key")
            return 0
    finally:
        engine.dispose()
