"""The project's date and time formats per language (settings.FORMAT_MODULE_PATH).

Only what differs from Django's own formats is here; Django's modules fill in the rest.
Dutch and French keep Django's formats ("7 december 2026", "7 décembre 2026", 24-hour
times); English follows the day-month-year order of a European ministry with 24-hour
times instead of Django's American "Dec. 7, 2026, 8:34 a.m.".
"""
