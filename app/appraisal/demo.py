"""The demo's 2023 亩均效益综合评价, as the programme would have run it in spring 2024: one 试算, 公示
from 1 to 7 March 2024, one objection of 崇福镇 with evidence upheld by the reviewer, then 定档.

Run by ``cloudmap db seed`` after the departments' 2023 figures (app/enterprises/demo.py); idempotent
(nothing is done when 2023 already has a run).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

import evaluation as engine

from ..core.clock import TIMEZONE
from ..enterprises.models import EnterpriseFigure
from ..models import Unit
from . import service
from .models import EvaluationEvidence, EvaluationObjection, EvaluationRun

YEAR = 2023
PUBLICITY = (dt.date(2024, 3, 1), dt.date(2024, 3, 7))
EVIDENCE_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>"
                b"endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=TIMEZONE)


def seed_evaluation(session: Session) -> int:
    """The fixed 2023 evaluation; returns the number of rows written (0 when there was one already)."""
    if session.scalar(select(EvaluationRun.id).where(EvaluationRun.year == YEAR).limit(1)) is not None:
        return 0
    # The story's dates: the departments' files arrived on 20 February 2024 (the seed has just imported them),
    # the 试算 ran on the 26th, 公示 1–7 March, the objection was filed on the 4th and upheld on the 9th,
    # and the result was fixed on the 12th.
    session.execute(update(EnterpriseFigure).where(
        EnterpriseFigure.year == YEAR, EnterpriseFigure.recorded_by == "seed",
        EnterpriseFigure.superseded_at.is_(None)).values(recorded_at=_at(dt.date(2024, 2, 20), 10)))
    at = _at(dt.date(2024, 2, 26), 9)
    inputs, objects = service.build_inputs(session, YEAR, at)
    if not inputs:
        return 0
    config = engine.config_to_dict(engine.default_config(YEAR))
    run = service.new_run(session, "admin", YEAR, config, inputs, at, objects, status="published", created_at=at,
                          note="2023 年度数据汇总后试算", publicity_start=PUBLICITY[0], publicity_end=PUBLICITY[1],
                          published_by="admin", published_at=_at(PUBLICITY[0], 9))
    session.flush()
    # The objection: the 崇福镇 enterprise ranked lowest among the graded, for its tax.
    chongfu = session.scalar(select(Unit.id).where(Unit.code == "chongfu"))
    graded = [e for e in run.result["enterprises"] if e["grade"] and inputs[e["credit_code"]]["unit_id"] == chongfu
              and "tax_10k" in inputs[e["credit_code"]]["sources"]]
    written = 1
    if graded:
        target = max(graded, key=lambda e: e["rank"])
        item = inputs[target["credit_code"]]
        tax = Decimal(service.used_value(item, "tax_10k"))
        corrected = f"{(tax * Decimal('1.35')).quantize(Decimal('0.1')):f}"
        objection = EvaluationObjection(
            run_id=run.id, enterprise_id=item["enterprise_id"], status="upheld",
            reason="税务数据未计入企业 2023 年 12 月补缴的增值税，附完税证明", corrections={"tax_10k": corrected},
            resolution="经税务局核实，补缴税款属 2023 年度，采纳更正", filed_by="chongfu",
            filed_at=_at(PUBLICITY[0] + dt.timedelta(days=3), 15), resolved_by="reviewer",
            resolved_at=_at(PUBLICITY[1] + dt.timedelta(days=2), 10))
        session.add(objection)
        session.flush()
        session.add(EvaluationEvidence(objection_id=objection.id, filename="2023年12月完税证明.pdf",
                                       content_type="application/pdf", size_bytes=len(EVIDENCE_PDF),
                                       sha256=hashlib.sha256(EVIDENCE_PDF).hexdigest(), content=EVIDENCE_PDF,
                                       uploaded_by="chongfu"))
        service.record_corrections(session, "reviewer", YEAR, objection, objection.resolved_at)
        written += 4
    service.fix_run(session, run, "reviewer", _at(PUBLICITY[1] + dt.timedelta(days=5), 16))
    return written

