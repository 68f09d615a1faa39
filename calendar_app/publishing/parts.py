"""What a delivery sends, part by part: the approved revision's texts turned into platform
posts by calendar_app.sending (the one function that decides it), frozen as DeliveryPart
rows at the delivery's first claim, and read back as the parts the connectors send.

The "publish now" list, show_delivery and the engine all take their parts from here, so a
person posting by hand sees exactly what an API connector would send.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from calendar_app import audit, counting, sending
from calendar_app.models import (
    Delivery,
    DeliveryPart,
    DeliveryStatus,
    Publication,
    PublicationRevision,
    ReviewDecision,
)

if TYPE_CHECKING:
    from diplomacy.models import Channel


@dataclass(frozen=True)
class OutgoingPart(sending.Part):
    """A part as a connector sends it: a sending.Part with the key that makes a repeat of
    its request harmless where the platform takes one (Mastodon, Bluesky, webhooks)."""

    idempotency_key: str = ""
    #: How many parts the delivery has (the webhook document says "part 2 of 4").
    of: int = 1


def approved_revision(publication: Publication) -> PublicationRevision | None:
    """The revision that goes out: the last approved one, or for a break-glass advisory the
    revision its post manager confirmed; None when there is neither."""
    review = (
        publication.reviews.filter(decision=ReviewDecision.APPROVE)
        .select_related("revision")
        .order_by("-created_at")
        .first()
    )
    if review is not None:
        return review.revision
    event = publication.events.filter(verb="break_glass").order_by("-pk").first()
    if event is None:
        return None
    return publication.revisions.filter(number=event.data.get("revision")).first()


@dataclass(frozen=True)
class Content:
    """What `sending.parts_for` takes from a publication: texts, per-platform texts, images."""

    texts: dict[str, str]
    overrides: dict[str, dict[str, str]]
    images: int
    #: "approved" (the approved revision) or "current" (the variants as they are now).
    source: str


def approved_content(publication: Publication) -> Content | None:
    """The approved revision's content, or None when nothing was approved."""
    revision = approved_revision(publication)
    return _content_of(revision.content) if revision is not None else None


def current_content(publication: Publication) -> Content:
    """The publication's variants and images as they are now (not yet approved)."""
    texts: dict[str, str] = {}
    overrides: dict[str, dict[str, str]] = {}
    for variant in publication.variants.all():
        texts[variant.language] = variant.text or ""
        overrides[variant.language] = dict(variant.platform_texts or {})
    return Content(texts=texts, overrides=overrides, images=publication.assets.count(), source="current")


def approved_contents(publications: Iterable[Publication]) -> dict[int, Content]:
    """{publication id: its approved_content} for many publications in a fixed number of
    queries (the rule of approved_revision, batched by calendar_app.audit); a publication
    with nothing approved is left out."""
    return {
        publication_id: _content_of(revision_content)
        for publication_id, revision_content in audit.approved_contents(p.pk for p in publications).items()
    }


def _content_of(revision_content: dict) -> Content:
    """A revision's stored content as `sending.parts_for` takes it."""
    texts, overrides = sending.revision_texts(revision_content)
    assets = revision_content.get("assets")
    return Content(
        texts=texts,
        overrides=overrides,
        images=len(assets) if isinstance(assets, list) else 0,
        source="approved",
    )


def planned_parts(channel: Channel, content: Content | None) -> list[sending.Part]:
    """The parts `channel` sends of `content` (none without content): the approved one,
    loaded by the caller (approved_content, or approved_contents for many); reads
    channel.post when the channel has no languages of its own (select_related it)."""
    if content is None:
        return []
    return sending.parts_for(
        sending.ChannelPlan.of(channel), content.texts, content.overrides, images=content.images
    )


class ApprovedAgain(Exception):
    """The publication was approved again, with other texts, after part of the delivery went
    out: what is live cannot be taken back, so a person decides (the message says what)."""


def freeze(delivery: Delivery) -> list[DeliveryPart]:
    """The delivery's parts, made from the approved revision the first time (and stored with
    the channel's plan and the revision's number), read back afterwards: what goes out is
    fixed at the first claim, until the publication is approved again with another revision.
    Then parts not yet sent are made anew from it; if some already went out, ApprovedAgain.

    Called by whoever holds the delivery's claim (or records it by hand); the unique
    (delivery, number) keeps a racing second call from making them twice.
    """
    stored = list(DeliveryPart.objects.filter(delivery=delivery).order_by("number"))
    revision = approved_revision(delivery.publication)
    if stored and not _approved_again(delivery, revision):
        return stored
    if stored:
        if any(row.status in (DeliveryStatus.DELIVERED, DeliveryStatus.UNKNOWN) for row in stored):
            raise ApprovedAgain(
                _(
                    "The publication was approved again with other texts after part of it went out "
                    "on this channel: check the channel, then record it or correct it by hand."
                )
            )
        # Nothing of the old revision went out: its parts give way to the new one's.
        DeliveryPart.objects.filter(delivery=delivery).delete()
        Delivery.objects.filter(pk=delivery.pk).update(plan="", revision=None)
        delivery.plan, delivery.revision = "", None
    channel = delivery.channel
    content = _content_of(revision.content) if revision is not None else None
    parts = planned_parts(channel, content)
    if not parts or revision is None:
        return []
    # The parts, the plan and the revision together: a thread resumed after a crash stays a thread.
    with transaction.atomic():
        planned = _store(delivery, parts, revision.number)
    if planned:
        delivery.plan, delivery.revision = delivery.channel.language_plan, revision.number
    else:  # frozen meanwhile by another hand (a person recording it)
        delivery.plan, delivery.revision = Delivery.objects.values_list("plan", "revision").get(
            pk=delivery.pk
        )
    return list(DeliveryPart.objects.filter(delivery=delivery).order_by("number"))


def freeze_many(deliveries: Sequence[Delivery]) -> dict[int, list[DeliveryPart] | ApprovedAgain]:
    """`freeze` for many claimed deliveries at once: {delivery id: its parts, or ApprovedAgain}.

    The usual case (a first claim, or parts frozen from the revision still approved) takes a
    fixed number of queries for the whole batch, not a handful per delivery: the stored parts
    in one read, the approved revisions in one (calendar_app.audit's rule), the new parts in
    one insert and the plans in one update per (plan, revision). A delivery whose publication
    was approved again with another revision goes through `freeze` on its own (rare).
    Reads each delivery's channel (select_related it, with the channel's post).
    """
    ids = [delivery.pk for delivery in deliveries]
    stored: dict[int, list[DeliveryPart]] = {pk: [] for pk in ids}
    for row in DeliveryPart.objects.filter(delivery_id__in=ids).order_by("delivery_id", "number"):
        stored[row.delivery_id].append(row)
    revisions = audit.approved_revisions({delivery.publication_id for delivery in deliveries})
    frozen: dict[int, list[DeliveryPart] | ApprovedAgain] = {}
    to_make: list[tuple[Delivery, list[sending.Part], int]] = []
    for delivery in deliveries:
        approved = revisions.get(delivery.publication_id)
        rows = stored[delivery.pk]
        again = approved is not None and delivery.revision is not None and delivery.revision != approved[0]
        if rows and not again:
            frozen[delivery.pk] = rows
        elif rows:
            try:
                frozen[delivery.pk] = freeze(delivery)
            except ApprovedAgain as exc:
                frozen[delivery.pk] = exc
        elif approved is None:
            frozen[delivery.pk] = []
        else:
            planned = planned_parts(delivery.channel, _content_of(approved[1]))
            if planned:
                to_make.append((delivery, planned, approved[0]))
            else:
                frozen[delivery.pk] = []
    if not to_make:
        return frozen
    plans: dict[tuple[str, int], list[int]] = {}
    with transaction.atomic():
        DeliveryPart.objects.bulk_create(
            [
                DeliveryPart(
                    delivery=delivery,
                    number=part.number,
                    languages=",".join(part.languages),
                    text=part.text,
                    images=part.images,
                    # Part 1 keeps the delivery's key (see _store).
                    **({"idempotency_key": delivery.idempotency_key} if part.number == 1 else {}),
                )
                for delivery, planned, _number in to_make
                for part in planned
            ],
            ignore_conflicts=True,
        )
        for delivery, _planned, number in to_make:
            plans.setdefault((delivery.channel.language_plan, number), []).append(delivery.pk)
        updated = 0
        for (plan, number), pks in plans.items():
            # Where no one else froze them meanwhile (a person recording by hand).
            updated += Delivery.objects.filter(pk__in=pks, plan="").update(plan=plan, revision=number)
    made = [delivery.pk for delivery, _planned, _number in to_make]
    rows_made: dict[int, list[DeliveryPart]] = {pk: [] for pk in made}
    for row in DeliveryPart.objects.filter(delivery_id__in=made).order_by("delivery_id", "number"):
        rows_made[row.delivery_id].append(row)
    if updated == len(made):
        now_frozen: dict[int, tuple[str, int | None]] = {
            delivery.pk: (delivery.channel.language_plan, number) for delivery, _p, number in to_make
        }
    else:  # some were frozen meanwhile by another hand: their plan is the one stored
        now_frozen = {
            pk: (plan, revision)
            for pk, plan, revision in Delivery.objects.filter(pk__in=made).values_list(
                "pk", "plan", "revision"
            )
        }
    for delivery, _planned, _number in to_make:
        delivery.plan, delivery.revision = now_frozen[delivery.pk]
        frozen[delivery.pk] = rows_made[delivery.pk]
    return frozen


def _approved_again(delivery: Delivery, revision: PublicationRevision | None) -> bool:
    """Whether the approved revision is another than the one the parts were frozen from
    (parts frozen before the revision was kept count as frozen from the approved one)."""
    return revision is not None and delivery.revision is not None and delivery.revision != revision.number


def _store(delivery: Delivery, parts: list[sending.Part], revision: int) -> bool:
    """Store the parts (unless stored meanwhile), the plan and the revision; True when this
    call set them."""
    DeliveryPart.objects.bulk_create(
        [
            DeliveryPart(
                delivery=delivery,
                number=part.number,
                languages=",".join(part.languages),
                text=part.text,
                images=part.images,
                # Part 1 keeps the delivery's key: a request made before deliveries had
                # parts is still recognised by the platform as the same one.
                **({"idempotency_key": delivery.idempotency_key} if part.number == 1 else {}),
            )
            for part in parts
        ],
        ignore_conflicts=True,
    )
    return bool(
        Delivery.objects.filter(pk=delivery.pk, plan="").update(
            plan=delivery.channel.language_plan, revision=revision
        )
    )


def outgoing(row: DeliveryPart, platform: str, of: int) -> OutgoingPart:
    """A stored part as the connectors take it (counted again the way its platform counts)."""
    return OutgoingPart(
        number=row.number,
        languages=tuple(row.language_list),
        text=row.text,
        used=counting.count_for_platform(row.text, platform),
        limit=counting.LIMITS.get(platform, 0),
        images=row.images,
        idempotency_key=row.idempotency_key,
        of=of,
    )


def for_delivery(delivery: Delivery, approved: Mapping[int, Content] | None = None) -> list[sending.Part]:
    """What a delivery sends (or sent): its frozen parts once it was claimed or recorded,
    else the parts the approved revision makes on its channel now. For the "publish now"
    list of manual channels, whose deliveries no engine claims. Reads the delivery's
    channel and post (select_related them) and its parts (prefetch them). `approved`, the
    approved contents of a list's publications (approved_contents), saves the queries
    that read the approved revision again for each delivery; a publication missing from
    it has nothing approved."""
    platform = delivery.channel.platform
    rows = list(delivery.parts.all())
    if rows:
        return [outgoing(row, platform, len(rows)) for row in rows]
    if approved is None:
        return planned_parts(delivery.channel, approved_content(delivery.publication))
    return planned_parts(delivery.channel, approved.get(delivery.publication_id))


def _asset_list(publication: Publication, content: Content) -> list[tuple[int, dict[str, str]]]:
    """[(asset id, {language: description})] in the order images go out (by id)."""
    if content.source == "approved":
        revision = approved_revision(publication)
        stored = (revision.content.get("assets") if revision is not None else None) or []
        return [(int(pk), dict(alt_texts or {})) for pk, alt_texts in stored]
    return [(asset.pk, dict(asset.alt_texts or {})) for asset in publication.assets.order_by("pk")]


def _alt(alt_texts: dict[str, str], language: str) -> str:
    return alt_texts.get(language) or next(iter(alt_texts.values()), "")


def describe(publication: Publication) -> dict[str, object]:
    """What each channel of `publication` sends, as a JSON-ready document (show_delivery):
    from the approved revision when there is one ("source": "approved"), else from the
    variants as they are now ("current"); a delivery's frozen parts, with their status
    and platform id, once it has them."""
    content = approved_content(publication) or current_content(publication)
    assets = _asset_list(publication, content)
    deliveries = {
        delivery.channel_id: delivery
        for delivery in publication.deliveries.prefetch_related("parts").select_related("channel")
    }
    channels = []
    for channel in publication.channels.select_related("post").order_by("pk"):
        plan = sending.ChannelPlan.of(channel)
        delivery = deliveries.get(channel.pk)
        rows = list(delivery.parts.all()) if delivery is not None else []
        if rows:
            shown: list[sending.Part] = [outgoing(row, channel.platform, len(rows)) for row in rows]
        else:
            shown = sending.parts_for(plan, content.texts, content.overrides, images=content.images)
        described_parts = []
        for index, part in enumerate(shown):
            described: dict[str, object] = {
                "number": part.number,
                "languages": list(part.languages),
                "text": part.text,
                "weighted_length": part.used,
                "limit": part.limit,
                "fits": part.fits,
                "images": [
                    {"asset": pk, "alt": _alt(alt_texts, part.language)}
                    for pk, alt_texts in assets[: part.images]
                ],
            }
            if rows:
                row = rows[index]
                described.update(status=row.status, platform_post_id=row.platform_post_id, url=row.url)
            described_parts.append(described)
        entry: dict[str, object] = {
            "channel": channel.pk,
            "handle": channel.handle,
            "platform": channel.platform,
            "connector": channel.connector,
            "plan": (delivery.plan if delivery is not None and delivery.plan else channel.language_plan),
            "languages": list(plan.languages),
            "left_out": sending.languages_left_out(plan, content.texts),
            "parts": described_parts,
        }
        if delivery is not None:
            entry["delivery"] = {
                "id": delivery.pk,
                "status": delivery.status,
                "platform_post_id": delivery.platform_post_id,
                "url": delivery.url,
                "error": delivery.error,
            }
        channels.append(entry)
    return {
        "publication": publication.pk,
        "title": publication.title,
        "status": publication.status,
        "source": content.source,
        "channels": channels,
    }
