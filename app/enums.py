"""Domain enumerations: English codes in code and in the database, Chinese labels for people.

Every label lives here, once; the API returns both the code and its label.
"""

from __future__ import annotations

from enum import StrEnum


class LabelledEnum(StrEnum):
    """A string enum whose members carry a Chinese label in ``LABELS``."""

    @property
    def label(self) -> str:
        return _LABELS[type(self)][self]

    @classmethod
    def from_label(cls, label: str):
        for member, text in _LABELS[cls].items():
            if text == label:
                return member
        raise ValueError(f"{label!r} is not a {cls.__name__} label")


class UnitKind(LabelledEnum):
    DEVELOPMENT_ZONE = "development_zone"
    SUBDISTRICT = "subdistrict"
    TOWN = "town"


class Stage(LabelledEnum):
    """Programme stage of a renewal block (谋划 → 启动 → 推进 → 完成)."""

    PLANNED = "planned"
    STARTED = "started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class ReviewStatus(LabelledEnum):
    """Review status of a block plan (the leadership group's 认定 workflow)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"


class Classification(LabelledEnum):
    """Enterprise / parcel classification: 改造提升 / 优化转型 / 整治清退."""

    UPGRADE = "upgrade"
    TRANSFORM = "transform"
    CLEAR_OUT = "clear_out"


class RenewalMode(LabelledEnum):
    """The plan's "3+X" renewal modes."""

    GOVERNMENT = "government"
    ENTERPRISE = "enterprise"
    SOCIAL_CAPITAL = "social_capital"
    OTHER = "other"


class RenewalType(LabelledEnum):
    """Kinds of renewal that count: 退二优二, 工改工, "零土地"技改."""

    SECONDARY_UPGRADE = "secondary_upgrade"
    INDUSTRIAL_TO_INDUSTRIAL = "industrial_to_industrial"
    ZERO_LAND = "zero_land"


class ParcelStatus(LabelledEnum):
    """Renewal progress of one parcel."""

    NOT_STARTED = "not_started"
    VACATING = "vacating"
    REBUILDING = "rebuilding"
    COMPLETED = "completed"


class ParkKind(LabelledEnum):
    """开发区 or 镇街工业园区: the areas 连片 blocks lie in (三（二）实施范围; app/parks)."""

    DEVELOPMENT_ZONE = "development_zone"
    TOWN_PARK = "town_park"


class EnterpriseScale(LabelledEnum):
    """规模: 规模以上工业企业 (规上, annual revenue ≥ 20 million yuan) or not (规下)."""

    ABOVE = "above_scale"
    BELOW = "below_scale"


_LABELS: dict[type, dict] = {
    UnitKind: {
        UnitKind.DEVELOPMENT_ZONE: "开发区",
        UnitKind.SUBDISTRICT: "街道",
        UnitKind.TOWN: "镇",
    },
    Stage: {
        Stage.PLANNED: "谋划",
        Stage.STARTED: "启动",
        Stage.IN_PROGRESS: "推进",
        Stage.COMPLETED: "完成",
    },
    ReviewStatus: {
        ReviewStatus.DRAFT: "草稿",
        ReviewStatus.SUBMITTED: "已提交",
        ReviewStatus.RETURNED: "已退回",
        ReviewStatus.APPROVED: "已认定",
    },
    Classification: {
        Classification.UPGRADE: "改造提升",
        Classification.TRANSFORM: "优化转型",
        Classification.CLEAR_OUT: "整治清退",
    },
    RenewalMode: {
        RenewalMode.GOVERNMENT: "政府主导改造",
        RenewalMode.ENTERPRISE: "企业自主改造",
        RenewalMode.SOCIAL_CAPITAL: "社会资本参与改造",
        RenewalMode.OTHER: "其他",
    },
    RenewalType: {
        RenewalType.SECONDARY_UPGRADE: "退二优二",
        RenewalType.INDUSTRIAL_TO_INDUSTRIAL: "工改工",
        RenewalType.ZERO_LAND: "零土地技改",
    },
    ParcelStatus: {
        ParcelStatus.NOT_STARTED: "未启动",
        ParcelStatus.VACATING: "腾退中",
        ParcelStatus.REBUILDING: "改造中",
        ParcelStatus.COMPLETED: "已完成",
    },
    ParkKind: {
        ParkKind.DEVELOPMENT_ZONE: "开发区",
        ParkKind.TOWN_PARK: "镇街工业园区",
    },
    EnterpriseScale: {
        EnterpriseScale.ABOVE: "规上",
        EnterpriseScale.BELOW: "规下",
    },
}
