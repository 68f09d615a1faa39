"""Whether what goes out is what was checked, over many publications at once.

For every publication that was approved (approved, published, or failed and waiting for a
retry), `audit_publications` asks calendar_app.sending what each of its channels sends of
the approved revision — the same texts the publishing engine reads — and records every
part over its platform's limit and every part carrying a language its channel does not
publish. `seed_demo`'s tests and bench/languages.py both read it; nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet

from calendar_app import sending
from calendar_app.models import (
    Publication,
    PublicationEvent,
    PublicationRevision,
    PublicationStatus,
    Review,
    ReviewDecision,
)
from diplomacy.models import Channel, plan_problems

#: Publications whose approved revision goes out, went out or is retried.
APPROVED_STATUSES = (PublicationStatus.APPROVED, PublicationStatus.PUBLISHED, PublicationStatus.FAILED)

#: What a finding is about. The first two break the promise; the others are worth a look.
OVER_LIMIT = "over_limit"
FOREIGN_LANGUAGE = "foreign_language"
NOTHING_TO_SEND = "nothing_to_send"
NO_APPROVED_REVISION = "no_approved_revision"
VIOLATIONS = (OVER_LIMIT, FOREIGN_LANGUAGE)


@dataclass(frozen=True)
class Finding:
    publication_id: int
    #: None when the finding is about the whole publication (no approved revision).
    channel_id: int | None
    problem: str
    detail: str


@dataclass
class Audit:
    """What the approved publications looked at send, and what is wrong with it."""

    publications: int = 0
    #: (publication, channel) pairs, i.e. deliveries made or to be made.
    deliveries: int = 0
    #: Platform posts those deliveries make (a thread of three counts three).
    parts: int = 0
    findings: list[Finding] = field(default_factory=list)

    def publications_with(self, *problems: str) -> set[int]:
        return {f.publication_id for f in self.findings if f.problem in problems}

    def count(self, problem: str) -> int:
        """Publications with at least one finding of `problem`."""
        return len(self.publications_with(problem))

    @property
    def violations(self) -> int:
        """Publications with a part over its limit or in a language its channel does not publish."""
        return len(self.publications_with(*VIOLATIONS))


def approved_contents(publication_ids: Iterable[int]) -> dict[int, dict]:
    """{publication id: content of the revision that goes out}: the revision of its latest
    approval, or for a break-glass advisory the revision its post manager confirmed (the
    rule of calendar_app.publishing.parts.approved_revision, for many publications at once)."""
    return {pk: content for pk, (_number, content) in approved_revisions(publication_ids).items()}


def approved_revisions(publication_ids: Iterable[int]) -> dict[int, tuple[int, dict]]:
    """{publication id: (number, content) of the revision that goes out}, by the rule of
    `approved_contents` (the publishing engine freezes parts with the number)."""
    ids = list(publication_ids)
    contents: dict[int, tuple[int, dict]] = {}
    reviews = (
        Review.objects.filter(publication_id__in=ids, decision=ReviewDecision.APPROVE)
        .order_by("created_at", "pk")
        .values_list("publication_id", "revision__number", "revision__content")
    )
    for publication_id, number, content in reviews:
        contents[publication_id] = (number, content)  # the latest approval wins
    missing = [pk for pk in ids if pk not in contents]
    if missing:
        confirmed: dict[int, int] = {}
        events = PublicationEvent.objects.filter(publication_id__in=missing, verb="break_glass").order_by(
            "pk"
        )
        for publication_id, data in events.values_list("publication_id", "data"):
            if isinstance(data, dict) and data.get("revision"):
                confirmed[publication_id] = int(data["revision"])
        revisions = PublicationRevision.objects.filter(publication_id__in=confirmed).values_list(
            "publication_id", "number", "content"
        )
        for publication_id, number, content in revisions:
            if confirmed.get(publication_id) == number:
                contents[publication_id] = (number, content)
    return contents


def audit_publications(publications: QuerySet[Publication]) -> Audit:
    """Audit the approved ones among `publications` (see the module's docstring)."""
    chosen = (
        publications.filter(status__in=APPROVED_STATUSES)
        .order_by("pk")
        .prefetch_related(
            Prefetch("channels", queryset=Channel.objects.select_related("post").order_by("pk"))
        )
    )
    audit = Audit()
    rows = list(chosen)
    contents = approved_contents(p.pk for p in rows)
    for publication in rows:
        audit.publications += 1
        content = contents.get(publication.pk)
        if content is None:
            audit.findings.append(
                Finding(publication.pk, None, NO_APPROVED_REVISION, "no approved revision to send")
            )
            continue
        texts, overrides = sending.revision_texts(content)
        images = len(content.get("assets") or [])
        for sent in sending.for_channels(publication.channels.all(), texts, overrides, images=images):
            audit.deliveries += 1
            audit.parts += len(sent.parts)
            audit.findings += _findings(publication.pk, sent)
    return audit


def _findings(publication_id: int, sent: sending.ChannelParts) -> list[Finding]:
    channel = sent.channel
    if not sent.parts:
        return [Finding(publication_id, channel.pk, NOTHING_TO_SEND, f"{channel}: no text in its languages")]
    findings = []
    published = set(sent.plan.languages[:1] if sent.plan.plan == "single" else sent.plan.languages)
    for part in sent.parts:
        if not part.fits:
            findings.append(
                Finding(
                    publication_id,
                    channel.pk,
                    OVER_LIMIT,
                    f"{channel} ({sent.plan.plan}), part {part.number} ({','.join(part.languages)}): "
                    f"{part.used} of {part.limit}, {part.over} over",
                )
            )
        foreign = [language for language in part.languages if language not in published]
        if foreign:
            findings.append(
                Finding(
                    publication_id,
                    channel.pk,
                    FOREIGN_LANGUAGE,
                    f"{channel}, part {part.number} carries {','.join(foreign)}; "
                    f"it publishes {','.join(sorted(published))}",
                )
            )
    return findings


def invalid_channels(channels: QuerySet[Channel] | None = None) -> list[tuple[Channel, dict[str, str]]]:
    """Channels whose language plan breaks diplomacy.models.plan_problems, with the problems."""
    channels = Channel.objects.all() if channels is None else channels
    found = []
    for channel in channels.select_related("post").order_by("pk"):
        problems = plan_problems(
            channel.platform,
            channel.language_plan,
            channel.content_language_list,
            channel.post.publishing_language_list,
        )
        if problems:
            found.append((channel, problems))
    return found
