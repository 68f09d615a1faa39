"""A person confirms a saved machine draft: who checked it and when, on the Variant row."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from calendar_app import guidelines, permissions
from calendar_app.models import Publication, PublicationRevision, PublicationStatus, Variant
from calendar_app.workflow.core import WorkflowError, record_event
from diplomacy.models import User


def confirm_machine_translation(
    actor: User, publication: Publication, language: str, *, expected_revision: int
) -> Variant:
    """Record that `actor` read the machine-drafted `language` text and vouches for it.

    Who: whoever may edit the publication. Only the text they saw: a form loaded at another
    revision is refused (WorkflowError: the message says why), and so is a text already checked. The words do
    not change, so neither does the revision nor its approval; a history row says who checked.
    """
    if not permissions.can_edit_publication(actor, publication):
        raise PermissionDenied
    with transaction.atomic():
        # Compare-and-set: the revision the person read, a draft nobody checked yet.
        confirmed = Variant.objects.filter(
            publication=publication,
            publication__revision=expected_revision,
            language=language,
            checked_by__isnull=True,
        ).exclude(machine_translated="")
        if not confirmed.update(checked_by=actor, checked_at=timezone.now()):
            raise WorkflowError(
                _("This text changed or was checked meanwhile. Reload the page and read it again.")
            )
        record_event(
            publication,
            actor,
            "translation_checked",
            from_status=publication.status,
            data={"language": language},
        )
        if publication.status == PublicationStatus.IN_REVIEW:
            _refresh_checks(publication.pk)
    return Variant.objects.get(publication=publication, language=language)


def _refresh_checks(publication_pk: int) -> None:
    """The revision under review is judged on its texts as they stand now: a draft checked in
    review no longer blocks its approval. Only the results change; the content (unchanged)
    and who submitted it (four eyes) stay."""
    publication = Publication.objects.select_related("post", "campaign").get(pk=publication_pk)
    results = guidelines.check(guidelines.CheckContext.for_publication(publication))
    PublicationRevision.objects.filter(publication=publication, number=publication.revision).update(
        checks=[
            {"code": r.code, "severity": r.severity, "passed": r.passed, "problems": r.problems}
            for r in results
        ],
        has_warnings=any(not r.passed and not r.blocking for r in results),
        has_blocking=any(r.blocking for r in results),
    )
