"""Pre-checks of block plans and scattered parcels: the ``spatial`` report over HTTP."""
