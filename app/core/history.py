"""Who writes a parcel's or a block's dated history (migration 0011, docs/assessment.md §1).

The events themselves are written by database triggers on ``parcels`` and ``renewal_blocks``, so
no path can forget them; a writer only names itself for the rest of its transaction.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlalchemy.orm import Session

SOURCES = ("backfill", "seed", "upload", "report", "correction", "edit")


def event_source(session: Session, source: str, actor: str | None = None, note: str | None = None, *,
                 day: dt.date | None = None, fix: bool = False) -> None:
    """Name the source (and who, and why) of the history events this transaction's writes make.

    ``seed`` (and ``backfill``) events count from the day they happened; every other source counts
    from the day it is recorded, so it never moves the figures of an earlier day. ``day``: the day the
    following changes happened (a completion keeps its own date); ``fix``: they replace the latest
    event of their parcel or block (a withdrawn report)."""
    if source not in SOURCES:
        raise ValueError(f"unknown event source {source!r}")
    session.execute(
        text("SELECT set_config('cloudmap.event_source', :s, true), set_config('cloudmap.event_actor', :a, true),"
             " set_config('cloudmap.event_note', :n, true), set_config('cloudmap.event_day', :d, true),"
             " set_config('cloudmap.event_fix', :f, true)"),
        {"s": source, "a": actor or "", "n": note or "", "d": day.isoformat() if day else "", "f": "on" if fix else ""},
    )
