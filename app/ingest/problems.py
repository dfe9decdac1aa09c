"""What the report says about a feature: the typed :class:`Problem`, and its JSON schema.

Validation (``validate.py``) makes ``Problem`` objects; the staging table keeps them as
JSON (``upload_features.problems``, one array per feature, written by ``store.py`` with
:func:`dumps`); the API serves that JSON as it is. :meth:`Problem.to_json` is that JSON,
and :class:`ProblemOut` documents it (the upload report's ``problems`` items)::

    {"code": "invalid_geometry", "severity": "error", "message": "几何无效：……",
     "repairable": true, "values": {"area_before_m2": 0.0, "area_after_m2": 5000.0},
     "feature": 1, "feature_code": "BT0001", "location": [120.5012345, 30.7012345]}

Keys whose value is None are left out, never written as null.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

ERROR = "error"  # blocks the commit
WARNING = "warning"  # shown, does not block
INFO = "info"  # a notice (stored already, unchanged)
Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[str, ...] = (ERROR, WARNING, INFO)
# Problems that the clerk clears by accepting the repaired geometry offered in the report.
REPAIRABLE = frozenset({"invalid_geometry", "wrong_geometry_type"})


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem of one feature (see :class:`ProblemOut` for what each field means)."""

    code: str
    severity: str
    message: str
    feature: int | None = None
    feature_code: str | None = None
    field: str | None = None
    location: tuple[float, float] | None = None
    values: dict[str, Any] | None = None
    repairable: bool | None = None
    other_features: tuple[int, ...] | None = None

    def to_json(self) -> dict:
        """The JSON object, None fields left out (keys in the order the report has always had)."""
        out: dict = {"code": self.code, "severity": self.severity}
        if self.field is not None:
            out["field"] = self.field
        if self.other_features is not None:
            out["other_features"] = list(self.other_features)
        out["message"] = self.message
        if self.repairable is not None:
            out["repairable"] = self.repairable
        if self.values is not None:
            out["values"] = self.values
        if self.feature is not None:
            out["feature"] = self.feature
        if self.feature_code is not None:
            out["feature_code"] = self.feature_code
        if self.location is not None:
            out["location"] = list(self.location)
        return out

    @classmethod
    def from_json(cls, data: dict) -> Problem:
        """The inverse of :meth:`to_json` (a problem read back from the staging table)."""
        location = data.get("location")
        others = data.get("other_features")
        return cls(
            code=data["code"], severity=data["severity"], message=data["message"], feature=data.get("feature"),
            feature_code=data.get("feature_code"), field=data.get("field"),
            location=tuple(location) if location is not None else None, values=data.get("values"),
            repairable=data.get("repairable"), other_features=tuple(others) if others is not None else None,
        )

    def blocks(self, accepted_repair: bool) -> bool:
        """Whether it still blocks a commit, given whether the feature's repair was accepted."""
        return _blocks(self.severity, self.code, self.repairable, accepted_repair)

    @property
    def repair_offered(self) -> bool:
        return self.code in REPAIRABLE and bool(self.repairable)


def _blocks(severity: str, code: str, repairable: bool | None, accepted_repair: bool) -> bool:
    return severity == ERROR and not (accepted_repair and code in REPAIRABLE and repairable)


def blocking(staged_problems: Iterable[dict], accepted_repair: bool) -> list[dict]:
    """The errors that still block a commit, from a feature's problems as stored (JSON)."""
    return [p for p in staged_problems
            if _blocks(p["severity"], p["code"], p.get("repairable"), accepted_repair)]


def worst(problems: Iterable[Problem]) -> str:
    """The feature's severity: ``error``, ``warning``, or ``ok`` (notices alone leave it ok)."""
    out = "ok"
    for p in problems:
        if p.severity == ERROR:
            return ERROR
        if p.severity == WARNING:
            out = WARNING
    return out


def dumps(problems: Iterable[Problem]) -> str:
    """A feature's problems as the JSON array that is stored (orjson; numpy numbers allowed in ``values``).

    Dicts first, then one orjson call: three times faster than orjson's ``default`` hook per object.
    """
    return orjson.dumps([p.to_json() for p in problems], option=orjson.OPT_SERIALIZE_NUMPY).decode()


class ProblemOut(BaseModel):
    """上传检查报告中的一条问题（``problems`` 数组的元素）。值为空的字段不出现。"""

    model_config = ConfigDict(extra="forbid", title="Problem")

    code: str = Field(description="问题代码（稳定，不随文字变化），如 invalid_geometry、duplicate_code、overlap_in_file",
                      examples=["invalid_geometry"])
    severity: Severity = Field(description="级别：error 错误（阻止入库），warning 警告，info 提示")
    field: str | None = Field(None, description="出问题的源字段名（文件中的字段，如“宗地编号”）；与字段无关时不出现")
    other_features: list[int] | None = Field(
        None, description="涉及的其他要素序号（重复编号的其余副本、文件内重叠的另一要素）")
    message: str = Field(description="给经办人看的中文说明")
    repairable: bool | None = Field(
        None, description="仅几何问题（invalid_geometry、wrong_geometry_type）：是否提供了修复后的图形（入库时 accept_repairs）")
    values: dict[str, Any] | None = Field(None, description="问题涉及的数值，如修复前后面积（平方米）")
    feature: int = Field(ge=1, description="要素序号，从 1 起，与属性表中的顺序一致")
    feature_code: str | None = Field(None, description="要素的编号（宗地编号或区块编号）；缺编号时不出现")
    location: list[float] | None = Field(
        None, min_length=2, max_length=2,
        description="定位点 [经度, 纬度]（EPSG:4490），用于在地图上缩放到该要素；无法定位时不出现")
