"""What every email the product sends must respect, whatever the content it quotes."""

from __future__ import annotations

import re
import unicodedata

#: Mail clients cut subjects long before this; the headers stay well under RFC 5322's line limit.
SUBJECT_MAX_LENGTH = 200

_BREAKS = re.compile(r"\s+")


def one_line_subject(text: str, limit: int = SUBJECT_MAX_LENGTH) -> str:
    """A subject on one line: line breaks, tabs and other control characters (a title typed or
    forged with a carriage return would make Django refuse the header with BadHeaderError, and
    the recipient would get nothing) become single spaces; cut at `limit` with an ellipsis."""
    printable = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)
    subject = _BREAKS.sub(" ", printable).strip()
    if len(subject) > limit:
        subject = subject[: limit - 1].rstrip() + "…"
    return subject
