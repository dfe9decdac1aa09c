"""Workflow enumerations (English codes, Chinese labels registered with app.enums)."""

from __future__ import annotations

from ..enums import _LABELS, LabelledEnum


class BoundarySource(LabelledEnum):
    """Where a block plan version's boundary came from."""

    DERIVED = "derived"
    DRAWN = "drawn"
    FILE = "file"


class ClearanceStatus(LabelledEnum):
    """整治清退 progress of an enterprise on the list (清单制)."""

    LISTED = "listed"
    RECTIFYING = "rectifying"
    CLEARED = "cleared"


class ReferralStatus(LabelledEnum):
    """十剑联动 joint-enforcement referral."""

    OPEN = "open"
    CLOSED = "closed"


class RectificationStatus(LabelledEnum):
    """Rectification of a 厂中厂 inspection finding."""

    NONE_NEEDED = "none_needed"
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DONE = "done"


_LABELS.update({
    BoundarySource: {
        BoundarySource.DERIVED: "由宗地推导",
        BoundarySource.DRAWN: "地图上绘制",
        BoundarySource.FILE: "文件导入",
    },
    ClearanceStatus: {
        ClearanceStatus.LISTED: "已列入清单",
        ClearanceStatus.RECTIFYING: "整治中",
        ClearanceStatus.CLEARED: "已清退",
    },
    ReferralStatus: {ReferralStatus.OPEN: "联动执法中", ReferralStatus.CLOSED: "已办结"},
    RectificationStatus: {
        RectificationStatus.NONE_NEEDED: "无需整改",
        RectificationStatus.PENDING: "待整改",
        RectificationStatus.IN_PROGRESS: "整改中",
        RectificationStatus.DONE: "已整改",
    },
})
