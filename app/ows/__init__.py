"""WMS 1.3.0 and WFS 2.0 at ``/ows``: MapServer, configured from the layer registry, run as a CGI.

:mod:`.mapfile` writes the mapfile (and MapServer's config and font files) from
:func:`app.core.read.layers.collections`; :mod:`.proxy` runs ``mapserv`` on a request;
:mod:`.routes` is the router (``/ows``, ``/wms``, ``/wfs``). The API-key gate in front of
``/ogc`` covers these paths too (:mod:`app.ogc.gate`). See docs/ows.md.
"""
