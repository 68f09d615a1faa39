"""Regional share: what the partner agencies proposed, what central accepted and posts adopted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from calendar_app.models import ProposalStatus, Publication, PublicationStatus
from calendar_app.reports.figures import rate
from diplomacy import geography
from diplomacy.models import Partner

#: How far back the regional-content trend goes.
TREND_MONTHS = 6


@dataclass
class RegionalShare:
    partners: list[dict]
    regions: list[dict]
    posts: list[Mapping[str, object]]
    #: [(month, [count per world region, in geography.REGIONS order])]
    trend: list[tuple] = field(default_factory=list)

    def csv_rows(self) -> tuple[list[str], list[list]]:
        header = [
            "partner",
            "region",
            "proposals",
            "accepted",
            "declined",
            "acceptance_rate",
            "adoptions",
            "adopting_posts",
            "published",
        ]
        rows = [
            [
                p["code"],
                p["region"],
                p["proposals"],
                p["accepted"],
                p["declined"],
                p["acceptance_rate"],
                p["adoptions"],
                p["adopting_posts"],
                p["published"],
            ]
            for p in self.partners
        ]
        return header, rows


def regional_share() -> RegionalShare:
    """Proposals per partner and region, acceptance and adoption, partner-origin publications."""
    sent = Q(proposals__submitted_at__isnull=False)
    adopted = ~Q(proposals__publications__status=PublicationStatus.CANCELLED)
    partners = Partner.objects.annotate(
        proposals_sent=Count("proposals", filter=sent, distinct=True),
        accepted=Count("proposals", filter=Q(proposals__status=ProposalStatus.ACCEPTED), distinct=True),
        declined=Count("proposals", filter=Q(proposals__status=ProposalStatus.DECLINED), distinct=True),
        adoptions=Count("proposals__publications", filter=adopted, distinct=True),
        adopting_posts=Count("proposals__publications__post", filter=adopted, distinct=True),
        published=Count(
            "proposals__publications",
            filter=Q(proposals__publications__status=PublicationStatus.PUBLISHED),
            distinct=True,
        ),
    ).order_by("region", "name")
    partner_rows = []
    regions: dict[str, dict] = {}
    for partner in partners:
        row = {
            "code": partner.code,
            "name": partner.name,
            "region": partner.region,
            "region_label": partner.get_region_display(),
            "proposals": partner.proposals_sent,
            "accepted": partner.accepted,
            "declined": partner.declined,
            "acceptance_rate": rate(partner.accepted, partner.accepted + partner.declined),
            "adoptions": partner.adoptions,
            "adopting_posts": partner.adopting_posts,
            "published": partner.published,
        }
        partner_rows.append(row)
        total = regions.setdefault(
            partner.region,
            {
                "region": partner.region,
                "label": partner.get_region_display(),
                "proposals": 0,
                "accepted": 0,
                "declined": 0,
                "adoptions": 0,
                "published": 0,
            },
        )
        for key in ("proposals", "accepted", "declined", "adoptions", "published"):
            total[key] += row[key]
    for total in regions.values():
        total["acceptance_rate"] = rate(total["accepted"], total["accepted"] + total["declined"])

    from_partners = Publication.objects.filter(proposal__isnull=False).exclude(
        status=PublicationStatus.CANCELLED
    )
    posts = (
        from_partners.values("post__code", "post__name", "post__country")
        .annotate(total=Count("pk"), published=Count("pk", filter=Q(status=PublicationStatus.PUBLISHED)))
        .order_by("-total", "post__name")[:50]
    )
    since = (timezone.now() - timedelta(days=31 * TREND_MONTHS)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    monthly = (
        from_partners.filter(scheduled_at__gte=since)
        .annotate(month=TruncMonth("scheduled_at"))
        .values("month", "post__country")
        .annotate(n=Count("pk"))
        .order_by("month")
    )
    trend: dict = {}
    for entry in monthly:
        month = entry["month"].date() if hasattr(entry["month"], "date") else entry["month"]
        region = geography.region_of(entry["post__country"]) or "other"
        trend.setdefault(month, {}).setdefault(region, 0)
        trend[month][region] += entry["n"]
    order = [code for code, _label in geography.REGIONS]
    return RegionalShare(
        partners=partner_rows,
        regions=list(regions.values()),
        posts=list(posts),
        trend=[(month, [counts.get(code, 0) for code in order]) for month, counts in sorted(trend.items())],
    )
