"""The map's colours, for MapServer's classes: the same hex values as the front end's legend.

Kept in step with ``frontend/src/map/styles.js`` (CLASSIFICATION_COLOURS, STAGE_COLOURS,
NO_DATA_COLOUR), ``frontend/src/map/parcels.js`` (the parcels' outline) and
``frontend/src/map/main.js`` (units); tests/app/test_ows_mapfile.py compares them.
"""

from __future__ import annotations

CLASSIFICATION_COLOURS = {"upgrade": "#2e7d32", "transform": "#ef6c00", "clear_out": "#c62828"}
STAGE_COLOURS = {"planned": "#7b8794", "started": "#1e88e5", "in_progress": "#8e24aa", "completed": "#2e7d32"}
NO_DATA_COLOUR = "#c4cdd5"
PARCEL_OUTLINE = "#3e4c59"
UNIT_OUTLINE = "#52606d"
PARK_COLOURS = {"development_zone": "#00897b", "town_park": "#6d4c41"}  # 开发区 / 镇街工业园区 outlines
LABEL_COLOUR = "#1f2933"
HALO_COLOUR = "#ffffff"
