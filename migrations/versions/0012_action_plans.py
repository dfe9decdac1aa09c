"""行动计划 as data: ``action_plans``, one row per plan, seeded with 桐政办发〔2022〕11号.

* ``action_plans`` — 文号, title, period (start and end year, both included), the headline targets
  of 二、主要目标 (亩 renewed over the period, new factory floor area, average FAR) and the
  thresholds of 三（二） that ``spatial`` applies (``spatial.PlanThresholds``: 连片 ≥ 200 亩,
  ≤ 2 blocks per unit per year, scattered ≥ 20 亩 and FAR ≥ 2.0, 整合归宗 ≥ 20 亩, the 30 m
  contiguity tolerance);
* ``ex_action_plans_period`` — no two periods overlap (an exclusion constraint over
  ``int4range(start_year, end_year, '[]')``), so a year has at most one plan in force;
* the 2022—2023 plan, from the constants of ``spatial/rules.py`` and their citations:
  二 "力争实施工业园区有机更新土地6000亩 … 新增厂房建筑面积400万平方米以上，改造区域内平均容积率提升到2.0以上";
  三（二）1 "200亩以上的相对连片集聚区" and "各主体每年认定连片实施区块原则上不超过2个";
  三（二）2 "宗地面积不少于20亩，改造后容积率达到2.0以上，或者 … 整合归宗重新出让单宗面积不少于20亩".

The yearly targets (``annual_targets``) and scoring configurations (``assessment_configs``) stay
per year: they belong to the plan whose period covers the year (linked by the year, no key).

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLAN_2022 = {
    "doc_no": "桐政办发〔2022〕11号",
    "title": "桐乡市工业园区有机更新攻坚行动计划（2022—2023年）",
    "start_year": 2022,
    "end_year": 2023,
    "target_total_mu": 6000,
    "target_new_floor_area_m2": 4_000_000,
    "target_average_far": 2.0,
    "min_block_mu": 200,
    "max_blocks_per_unit_per_year": 2,
    "min_parcel_mu": 20,
    "min_far": 2.0,
    "min_merged_parcel_mu": 20,
    "tolerance_m": 30,
    "note": ("二、主要目标：力争实施工业园区有机更新土地6000亩，新增厂房建筑面积400万平方米以上，"
             "改造区域内平均容积率提升到2.0以上。三（二）1：200亩以上的相对连片集聚区，各主体每年认定连片实施区块原则上不超过2个。"
             "三（二）2：宗地面积不少于20亩，改造后容积率达到2.0以上，或者整合归宗重新出让单宗面积不少于20亩。"
             "连片容差 30 米为本平台对“相对连片”的认定口径。"),
    "created_by": "system",
    "updated_by": "system",
    "row_version": 1,
}


def upgrade() -> None:
    table = op.create_table(
        "action_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doc_no", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("start_year", sa.Integer(), nullable=False),
        sa.Column("end_year", sa.Integer(), nullable=False),
        sa.Column("target_total_mu", sa.Numeric(12, 2), nullable=False),
        sa.Column("target_new_floor_area_m2", sa.Numeric(14, 2), nullable=False),
        sa.Column("target_average_far", sa.Numeric(6, 2), nullable=False),
        sa.Column("min_block_mu", sa.Numeric(10, 2), nullable=False),
        sa.Column("max_blocks_per_unit_per_year", sa.Integer(), nullable=False),
        sa.Column("min_parcel_mu", sa.Numeric(10, 2), nullable=False),
        sa.Column("min_far", sa.Numeric(6, 2), nullable=False),
        sa.Column("min_merged_parcel_mu", sa.Numeric(10, 2), nullable=False),
        sa.Column("tolerance_m", sa.Numeric(8, 2), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.CheckConstraint("end_year >= start_year", name=op.f("ck_action_plans_period_order")),
        sa.CheckConstraint(
            "target_total_mu >= 0 AND target_new_floor_area_m2 >= 0 AND target_average_far >= 0"
            " AND min_block_mu >= 0 AND max_blocks_per_unit_per_year >= 0 AND min_parcel_mu >= 0"
            " AND min_far >= 0 AND min_merged_parcel_mu >= 0 AND tolerance_m >= 0",
            name=op.f("ck_action_plans_non_negative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_plans")),
        sa.UniqueConstraint("doc_no", name=op.f("uq_action_plans_doc_no")),
    )
    op.execute("ALTER TABLE action_plans ADD CONSTRAINT ex_action_plans_period "
               "EXCLUDE USING gist (int4range(start_year, end_year, '[]') WITH &&)")
    op.bulk_insert(table, [PLAN_2022])


def downgrade() -> None:
    op.drop_table("action_plans")
