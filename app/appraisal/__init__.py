"""亩均效益综合评价 as a service: each year's configuration, frozen runs, 公示, 异议 and 定档 (docs/evaluation.md)."""
