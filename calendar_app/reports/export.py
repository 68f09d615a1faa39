"""Reports as CSV, with cells a spreadsheet shows as text and never runs as formulas."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from django.http import HttpResponse


def spreadsheet_safe(value: object) -> object:
    """A cell a spreadsheet will not run: text starting like a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, str) and looks_like_a_formula(value):
        return "'" + value
    return value


def looks_like_a_formula(text: str) -> bool:
    """=, + and - start formulas; @ too, but a handle such as @BelgiumInTurkey is left alone."""
    return text[:1] in ("=", "+", "-") or (text[:1] == "@" and "(" in text)


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([spreadsheet_safe(value) for value in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_tables_response(
    filename: str, tables: Iterable[tuple[str, Sequence[str], Iterable[Sequence[object]]]]
) -> HttpResponse:
    """Several tables in one CSV file, one after the other: the first column names the table,
    and each table begins with its own header row, whose first cell is "table"."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for name, header, rows in tables:
        writer.writerow(["table", *header])
        for row in rows:
            writer.writerow([name, *(spreadsheet_safe(value) for value in row)])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
