"""The pure 工业企业亩均效益综合评价 engine: indicators, benchmarks, scores, ranks and classes.

No database, web or file I/O lives here; imports are the standard library only (tested). The
service layer builds ``Enterprise`` inputs, keeps a year's ``Config`` as the plain dict of
``config_to_dict`` and stores ``Result.to_dict()`` as a frozen run. See docs/evaluation.md.
"""

from .config import (
    AdjustmentLimit,
    Benchmark,
    Config,
    ConfigError,
    ConfigProblem,
    GradeCut,
    GroupConfig,
    IndicatorConfig,
    LeasedFloor,
    NotGradedRule,
    Ties,
    config_from_dict,
    config_problems,
    config_to_dict,
    default_config,
)
from .engine import EnterpriseResult, GroupResult, IndicatorResult, Result, counted_land_mu, cut_ranks, evaluate
from .inputs import (
    ADJUSTMENT_KINDS,
    INDICATORS,
    MU_PER_M2,
    Adjustment,
    Enterprise,
    Figures,
    IndicatorDef,
    enterprise_from_dict,
    enterprise_to_dict,
)

__all__ = [
    "ADJUSTMENT_KINDS",
    "INDICATORS",
    "MU_PER_M2",
    "Adjustment",
    "AdjustmentLimit",
    "Benchmark",
    "Config",
    "ConfigError",
    "ConfigProblem",
    "Enterprise",
    "EnterpriseResult",
    "Figures",
    "GradeCut",
    "GroupConfig",
    "GroupResult",
    "IndicatorConfig",
    "IndicatorDef",
    "IndicatorResult",
    "LeasedFloor",
    "NotGradedRule",
    "Result",
    "Ties",
    "config_from_dict",
    "config_problems",
    "config_to_dict",
    "counted_land_mu",
    "cut_ranks",
    "default_config",
    "enterprise_from_dict",
    "enterprise_to_dict",
    "evaluate",
]
