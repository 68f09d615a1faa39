"""A readable difference between two revisions of a publication's content."""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass
class FieldDiff:
    label: str
    #: (" ", "+", "-") and the line
    lines: list[tuple[str, str]]


def _lines(value) -> list[str]:
    if isinstance(value, list):
        return [str(item) for item in value]
    if isinstance(value, dict):
        return [f"{key}: {item}" for key, item in sorted(value.items())]
    return str(value or "").splitlines() or [""]


def diff_contents(old: dict, new: dict) -> list[FieldDiff]:
    """Line by line, only the fields that differ; variants compared language by language."""
    diffs = []
    for key in ("title", "kind", "campaign", "channels", "local_date", "local_time", "assets"):
        if old.get(key) != new.get(key):
            diffs.append(FieldDiff(key, _ndiff(_lines(old.get(key)), _lines(new.get(key)))))
    old_variants, new_variants = old.get("variants", {}), new.get("variants", {})
    for language in sorted(set(old_variants) | set(new_variants)):
        before = old_variants.get(language, ["", {}])
        after = new_variants.get(language, ["", {}])
        if before != after:
            diffs.append(
                FieldDiff(
                    f"text [{language}]",
                    _ndiff(_lines(before[0]) + _lines(before[1]), _lines(after[0]) + _lines(after[1])),
                )
            )
    return diffs


def _ndiff(before: list[str], after: list[str]) -> list[tuple[str, str]]:
    return [(line[0], line[2:]) for line in difflib.ndiff(before, after) if line[0] in " +-"]
