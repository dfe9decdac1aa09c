"""The one read path: a layer registry and one SQL builder for GeoJSON, on a psycopg pool.

* :mod:`.layers` — :class:`Layer` / :class:`Prop`: what a collection is; :func:`layers`, the
  programme's layers; :func:`collections`, those served at /ogc.
* :mod:`.sql` — pages (keyset or offset), one feature, counts, extents, rows for exports.
* :mod:`.params` — ``bbox`` / ``limit`` / ``offset`` / ``cursor``, parsed once, one set of messages.
* :mod:`.geojson` — Features and FeatureCollections assembled as text in PostgreSQL.
* :mod:`.pool` — compiled SQL, the ``psycopg_pool`` reader, the session reader (tests, services).
* :mod:`.crs` — the CRSs served and their axis order.
"""
