"""The programme's clock: dates are Tongxiang dates (Asia/Shanghai), whatever the server's zone.

A status that changes today, a plan in force this year, the date in an export's file name and the
default ``as_of`` of a report all take "today" from here, so one day boundary holds everywhere.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

TIMEZONE = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    """The current moment, in Tongxiang's zone."""
    return dt.datetime.now(TIMEZONE)


def today() -> dt.date:
    """Today's date in Tongxiang."""
    return now().date()
