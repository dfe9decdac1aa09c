"""Workflow errors in the one AppError envelope."""

from __future__ import annotations

from ..errors import AppError, FieldError


class RulesFailed(AppError):
    """A plan that fails the plan's rules cannot be submitted or approved; ``errors`` lists each rule."""

    status_code = 422
    code = "plan_rules_failed"

    def __init__(self, action: str, report: dict) -> None:
        errors = [
            FieldError(v["code"], v["message_zh"], ",".join(map(str, v["feature_ids"])) or None)
            for v in report["violations"] if v["severity"] == "error"
        ] + [
            FieldError(p["code"], p.get("message_zh") or p.get("message") or p["code"],
                       ",".join(map(str, p.get("feature_ids") or [])) or None)
            for p in report["problems"] if p.get("severity") == "error"
        ]
        first = errors[0].message if errors else ""
        super().__init__(f"方案未通过规则检查，不能{action}（{len(errors)} 项）：{first}", errors)
        self.report = report


class InvalidState(AppError):
    """The action does not fit the plan's current state (e.g. approving a draft)."""

    status_code = 409
    code = "invalid_state"
