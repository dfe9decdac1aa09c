"""行动计划 as data: each plan's document, period, headline targets and rule thresholds (action_plans)."""
