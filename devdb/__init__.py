"""The checkout's private PostgreSQL + PostGIS cluster, for development and tests only.

``make run`` and ``make test`` start it when DATABASE_URL is unset (through
``app.core.db.database_url`` and ``tests/dbutil.py``); ``cloudmap db start|stop|status``
manage it. It is not part of the production package: the Docker image does not contain
it, and a deployment always sets DATABASE_URL. Standard library only (psycopg lazily).
See :mod:`devdb.cluster` for the layout and the rules it follows.
"""

from .cluster import DEFAULT_PORT, ClusterError, configured_port, data_dir, server_url, start, status, stop

__all__ = ["DEFAULT_PORT", "ClusterError", "configured_port", "data_dir", "server_url", "start", "status", "stop"]
