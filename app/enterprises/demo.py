"""The demo 一库: the register and the departments' 2023 figures of ``data/enterprises/`` (示意 demo data,
scripts/make_demo_register.py), imported by ``cloudmap db seed`` THROUGH the import services — stage, then
commit, as the user ``seed`` — so the demo holds what a clerk's imports would have written.

Idempotent: a file whose sha256 was committed before is skipped, so seeding again changes nothing.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.deps import Principal
from ..auth.models import User
from ..auth.roles import Role
from ..core.forms import Form, FormFile
from ..core.uow import unit_of_work
from . import figures, imports
from .models import EnterpriseImport

SEED_USER = "seed"
REGISTER = "register.xlsx"
# 2023-税务局-税收.csv: the year and the department that sent it.
FIGURES_FILE = re.compile(r"^(\d{4})-([^-]+)-.+\.(csv|xlsx|xls)$")


def _principal() -> Principal:
    return Principal(User(username=SEED_USER, role=Role.ADMIN, display_name="演示数据"))


def _files(directory: Path) -> list[tuple[Path, dict[str, str]]]:
    out = []
    if (directory / REGISTER).is_file():
        out.append((directory / REGISTER, {"kind": "register"}))
    for path in sorted(directory.iterdir()) if directory.is_dir() else []:
        found = FIGURES_FILE.match(path.name)
        if found:
            out.append((path, {"kind": "figures", "year": found.group(1), "department": found.group(2)}))
    return out


def seed_register_and_figures(session: Session, data_dir: Path) -> int:
    """Import the register, then each department's file; returns the number of files imported now."""
    principal = _principal()
    imported = 0
    for path, fields in _files(Path(data_dir) / "enterprises"):
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        with unit_of_work(session):
            if session.scalar(select(EnterpriseImport.id).where(EnterpriseImport.sha256 == digest,
                                                                EnterpriseImport.status == "committed").limit(1)):
                continue
            report = figures.stage(session, principal, Form(fields=dict(fields), files=[FormFile("file", path.name,
                                                                                                data)]))
            if not report["can_commit"]:
                problems = report["mapping_problems"] + [p["message"] for r in report["rows"] for p in r["problems"]
                                                         if p["severity"] == "error"]
                if problems:
                    raise RuntimeError(f"demo file {path.name}: " + "; ".join(problems[:5]))
                session.delete(imports.get_import(session, uuid.UUID(report["id"])))  # nothing new in it: no staged leftover
                continue
            figures.commit_any(session, principal, uuid.UUID(report["id"]))
            imported += 1
    return imported
