"""Judging recommenders against the editors' own links: which pages are held out
(:mod:`.split`), the ranking metrics (:mod:`.metrics`), scoring on one split with
bootstrap intervals (:mod:`.evaluate`) and the reports (:mod:`.report`)."""

from .evaluate import (
    AUTOMATIC_BASELINE,
    AUTOMATIC_BASELINE_AT_CRAWL,
    AUTOMATIC_BASELINE_TAG_AT_CRAWL,
    AUTOMATIC_BASELINES,
    AUTOMATIC_WARNING,
    MODE_TITLES,
    MODES,
    EvaluationReport,
    EvaluationRow,
    ListRow,
    Recommender,
    bootstrap_interval,
    evaluate,
    format_interval,
    looks_automatic,
    relevant_targets,
)
from .split import MIN_DATED_SHARE, HeldOut, hold_out, split_articles, temporal_split

__all__ = [
    "AUTOMATIC_BASELINE",
    "AUTOMATIC_BASELINE_AT_CRAWL",
    "AUTOMATIC_BASELINE_TAG_AT_CRAWL",
    "AUTOMATIC_BASELINES",
    "AUTOMATIC_WARNING",
    "MIN_DATED_SHARE",
    "MODES",
    "MODE_TITLES",
    "EvaluationReport",
    "EvaluationRow",
    "HeldOut",
    "ListRow",
    "Recommender",
    "bootstrap_interval",
    "evaluate",
    "format_interval",
    "hold_out",
    "looks_automatic",
    "relevant_targets",
    "split_articles",
    "temporal_split",
]
