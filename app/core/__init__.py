"""The shared machinery every feature stands on; it imports no feature.

* :mod:`.db` — engine, sessions and the hooks every session runs (measures, audit);
  ``SessionDep``; the database URL.
* :mod:`.uow` — ``unit_of_work``: the one way to commit or roll back.
* :mod:`.audit` — the audit trail (``audit_context``, ``set_actor``, ``record``).
* :mod:`.concurrency` — ETag / If-Match with row locks; 409 with what changed.
* :mod:`.notifications` — messages to users about a subject (type + code).
* :mod:`.review` — the review engine: a transition table, guards, separation of duties.
* :mod:`.excel` — the one workbook writer (title, date line, A4 landscape, numbers as numbers).
* :mod:`.readpath` — the layer registry and the one SQL builder for GeoJSON (pages,
  features, counts, extents, rows for exports), run on a psycopg pool or a session.
* :mod:`.models` — the tables of the above (audit log, notifications, review events).
"""
