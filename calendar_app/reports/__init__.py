"""Reports that count publications and proposals; aggregates in the database, a fixed
number of queries whatever the amount of data.

One module a report: coverage, activity (cadence, languages, partner share), timing
(review turnaround, on-time share), regional (partner proposals and adoptions); figures
and export hold what they share (percentages, charts, CSV).
"""

from calendar_app.reports.activity import (
    VERDICT_LABELS,
    VERDICTS,
    Activity,
    Fold,
    activity,
    activity_findings,
)
from calendar_app.reports.coverage import (
    ABSENT,
    ACTIVE,
    INACTIVE,
    SILENT,
    SILENT_AFTER_DAYS,
    STATE_LABELS,
    STATE_ORDER,
    Coverage,
    CoverageRow,
    GapGroup,
    RegionFold,
    coverage,
    coverage_findings,
)
from calendar_app.reports.export import (
    csv_response,
    csv_tables_response,
    looks_like_a_formula,
    spreadsheet_safe,
)
from calendar_app.reports.figures import Finding, bar_chart, bar_chart_svg, rate
from calendar_app.reports.regional import TREND_MONTHS, RegionalShare, regional_share
from calendar_app.reports.timing import ON_TIME, MondayUTC, SecondsBetween, on_time_share

__all__ = [
    "ABSENT",
    "ACTIVE",
    "INACTIVE",
    "ON_TIME",
    "SILENT",
    "SILENT_AFTER_DAYS",
    "STATE_LABELS",
    "STATE_ORDER",
    "TREND_MONTHS",
    "VERDICTS",
    "VERDICT_LABELS",
    "Activity",
    "Coverage",
    "CoverageRow",
    "Finding",
    "Fold",
    "GapGroup",
    "MondayUTC",
    "RegionFold",
    "RegionalShare",
    "SecondsBetween",
    "activity",
    "activity_findings",
    "bar_chart",
    "bar_chart_svg",
    "coverage",
    "coverage_findings",
    "csv_response",
    "csv_tables_response",
    "looks_like_a_formula",
    "on_time_share",
    "rate",
    "regional_share",
    "spreadsheet_safe",
]
