"""Central changes a rule of the common guidelines: a new numbered version of the whole set."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError

from calendar_app import guidelines, permissions
from calendar_app.models import Guideline, GuidelineVersion
from calendar_app.workflow.core import action_transaction
from diplomacy.models import User


def change_guideline(actor: User, code: str, values: dict[str, Any]) -> GuidelineVersion:
    """Store central's settings of rule `code` and a new version of the whole set.

    Who: central reviewers. `values` are the Guideline fields the form cleaned. Each
    review records the version number in force; the unique number makes two changes
    at once take two numbers (the loser of a race tries again, three times at most).
    """
    if not permissions.can_manage_guidelines(actor):
        raise PermissionDenied
    for _attempt in range(3):
        try:
            with action_transaction():
                Guideline.objects.update_or_create(code=code, defaults=values)
                snapshot = {
                    row.code: {
                        "enabled": row.enabled,
                        "severity": row.severity,
                        "post_kinds": row.post_kinds,
                        "platforms": row.platforms,
                        "publication_kinds": row.publication_kinds,
                        "params": row.params,
                    }
                    for row in Guideline.objects.all()
                }
                return GuidelineVersion.objects.create(
                    number=guidelines.current_version() + 1, changed_by=actor, change=code, snapshot=snapshot
                )
        except IntegrityError:
            continue
    raise IntegrityError("Could not number the guidelines version; try again.")
