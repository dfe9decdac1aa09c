"""项目准入: a new project entering an approved renewal block, reviewed on the core's review engine."""
