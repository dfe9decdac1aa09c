"""一库: the enterprise register — imported from the departments' sheets, with a history of every field."""
