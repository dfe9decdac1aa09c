"""一表: progress against targets, the programme's indicators, monthly reports and assessment scores."""
