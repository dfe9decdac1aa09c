"""开发区 and 镇街工业园区 (issue 19, docs/parks.md): the parks layer, its read API and attribute edits.

The table is ``app.models.Park`` (beside units and blocks: the shared read path serves it); the
boundaries come in through the upload checks (target ``parks``, app/ingest); the rule that a 连片
block lies inside a park is ``spatial.check_inside_parks``, run in every plan check
(app.analysis.service.block_plan_report).
"""
