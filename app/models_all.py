"""Imports every module that defines tables, so ``Base.metadata`` is complete.

Alembic's env.py and the schema tests import this. A feature package with its
own ``models.py`` adds one import line here.
"""

from .models import Base
from .core import models as _core_models  # noqa: F401  audit log, notifications, review events
from .auth import models as _auth_models  # noqa: F401  users, login sessions
from .workflow import models as _workflow_models  # noqa: F401  plans, versions, governance, audit
from .progress import models as _progress_models  # noqa: F401
from .actionplans import models as _action_plan_models  # noqa: F401  行动计划
from .ogc import models as _ogc_models  # noqa: F401  api keys, tile invalidations
from .ingest import models as _ingest_models  # noqa: F401  uploads, staged features, history
from .enterprises import models as _enterprise_models  # noqa: F401  一库: register imports, field history
from .appraisal import models as _appraisal_models  # noqa: F401  亩均评价: configs, runs, objections
from .market import models as _market_models  # noqa: F401  转让与租赁: records, parcels, flags
from .subsidies import models as _subsidy_models  # noqa: F401  扶持资金: fund, entries, payments
from .cases import models as _case_models  # noqa: F401  典型案例: quarterly 现场会 blocks, photos
from .admission import models as _admission_models  # noqa: F401  项目准入: applications

__all__ = ["Base"]
