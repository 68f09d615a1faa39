"""English: day month year and 24-hour times (see the package's docstring)."""

DATE_FORMAT = "j F Y"  # 7 December 2026
TIME_FORMAT = "H:i"  # 08:34
DATETIME_FORMAT = "j F Y H:i"  # 7 December 2026 08:34
YEAR_MONTH_FORMAT = "F Y"  # December 2026
MONTH_DAY_FORMAT = "j F"  # 7 December
SHORT_DATE_FORMAT = "j M Y"  # 7 Dec 2026
SHORT_DATETIME_FORMAT = "j M Y H:i"  # 7 Dec 2026 08:34
FIRST_DAY_OF_WEEK = 1  # Monday
