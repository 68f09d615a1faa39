"""The common guidelines: a catalogue of rules in code, configured by central comms.

Each rule has a stable code, a default severity (blocking or warning), a scope
(post kinds, platforms, publication kinds), parameters and an explanation. The
catalogue lives here; what central changed (enabled, severity, scope,
parameters, explanations) lives in `Guideline` rows, and every change makes a
new `GuidelineVersion`, whose number each review records.

`check(context)` runs every enabled rule in scope and returns one result per
rule; `CheckContext` is built from a saved publication or from an editor's
unsaved form, so the live check and the final check are the same code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from calendar_app import sending
from calendar_app.models import (
    Guideline,
    GuidelineVersion,
    Publication,
    PublicationKind,
    PublicationStatus,
    language_name,
    language_names,
)
from diplomacy.models import THREAD_PLATFORMS, Channel, LanguagePlan, Platform, Post, PostKind

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

BLOCKING = "blocking"
WARNING = "warning"
SEVERITIES = [(BLOCKING, gettext_lazy("Blocking")), (WARNING, gettext_lazy("Warning"))]


@dataclass
class CheckContext:
    """What the rules look at: a publication, saved or still in the editor."""

    post: Post
    kind: str
    platforms: list[str]
    #: {language: text}
    variants: dict[str, str]
    #: {language: {platform: text}}
    platform_texts: dict[str, dict[str, str]]
    #: one {language: alt text} per image
    alt_texts: list[dict[str, str]]
    campaign_hashtags: list[str]
    scheduled_at: datetime | None
    local_date: date | None = None
    channel_ids: list[int] = field(default_factory=list)
    publication_id: int | None = None
    #: The channels it goes to, as calendar_app.sending needs them (no query to read).
    channel_plans: list[sending.ChannelPlan] = field(default_factory=list)
    #: How many images it carries.
    images: int = 0
    #: Languages whose text is a machine translation nobody has confirmed or corrected yet.
    unchecked_translations: list[str] = field(default_factory=list)

    @classmethod
    def for_publication(cls, publication: Publication) -> CheckContext:
        variants = list(publication.variants.all())
        channels = publication_channels(publication)
        assets = list(publication.assets.all())
        return cls(
            post=publication.post,
            kind=publication.kind,
            platforms=sorted({c.platform for c in channels}),
            variants={v.language: v.text for v in variants},
            platform_texts={v.language: dict(v.platform_texts) for v in variants},
            alt_texts=[dict(a.alt_texts) for a in assets],
            campaign_hashtags=publication.campaign.hashtag_list if publication.campaign else [],
            scheduled_at=publication.scheduled_at,
            local_date=publication.local_date,
            channel_ids=[c.pk for c in channels],
            publication_id=publication.pk,
            channel_plans=[sending.ChannelPlan.of(channel) for channel in channels],
            images=len(assets),
            unchecked_translations=[v.language for v in variants if v.is_unchecked_translation],
        )

    def text_for(self, language: str, platform: str) -> str:
        return self.platform_texts.get(language, {}).get(platform) or self.variants[language]

    def parts(self, plan: sending.ChannelPlan) -> list[sending.Part]:
        """What `plan`'s channel sends of this publication."""
        return sending.parts_for(plan, self.variants, self.platform_texts, images=self.images)


def publication_channels(publication: Publication) -> list[Channel]:
    """The publication's channels (prefetched ones when there are), each holding its post, so
    that `sending.ChannelPlan.of` reads no row per channel: a channel of the publication's
    own post is given the post already loaded with the publication."""
    channels = list(publication.channels.all())
    for channel in channels:
        if channel.post_id == publication.post_id and not Channel.post.is_cached(channel):
            channel.post = publication.post
    return channels


@dataclass
class Result:
    code: str
    title: str
    severity: str
    passed: bool
    problems: list[str]

    @property
    def blocking(self) -> bool:
        return not self.passed and self.severity == BLOCKING

    @property
    def url(self) -> str:
        return reverse("guidelines") + f"#rule-{self.code}"


@dataclass(frozen=True)
class Rule:
    code: str
    title: object  # lazy string
    explanation: object  # lazy string
    severity: str
    check: Callable[[CheckContext, dict[str, Any]], list[str]]
    params: dict[str, Any] = field(default_factory=dict)
    #: Default scope; empty means every one.
    publication_kinds: tuple[str, ...] = ()
    exempt_kinds: tuple[str, ...] = ()


# --- The rules --------------------------------------------------------------------


def channel_name(plan: sending.ChannelPlan) -> str:
    """ "X @BelgiumInIstanbul": how messages name a channel."""
    return f"{dict(Platform.choices).get(plan.platform, plan.platform)} {plan.handle}".strip()


def part_name(plan: sending.ChannelPlan, part: sending.Part, of: int) -> str:
    """ "post 2 of 4, French", "the combined post" or "the post in French"."""
    if plan.plan == LanguagePlan.COMBINED and len(part.languages) > 1:
        return _("the combined post")
    if of == 1:
        return _("the post in %(language)s") % {"language": language_name(part.language)}
    return _("post %(number)s of %(count)s, %(language)s") % {
        "number": part.number,
        "count": of,
        "language": language_name(part.language),
    }


def part_too_long(plan: sending.ChannelPlan, part: sending.Part, of: int) -> str:
    """What is wrong with a part that does not fit, naming the channel, the part and by how
    much; a combined post on a platform with threads says the way out."""
    message = _(
        "%(channel)s: %(part)s is %(used)s characters; the limit is %(limit)s (%(over)s too many)."
    ) % {
        "channel": channel_name(plan),
        "part": part_name(plan, part, of),
        "used": part.used,
        "limit": part.limit,
        "over": part.over,
    }
    if plan.plan == LanguagePlan.COMBINED and len(part.languages) > 1 and plan.platform in THREAD_PLATFORMS:
        message += " " + _("Its post manager can make it a thread: one post per language.")
    return message


def _text_length(ctx: CheckContext, params: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for plan in ctx.channel_plans:
        parts = ctx.parts(plan)
        problems.extend(part_too_long(plan, part, len(parts)) for part in parts if not part.fits)
    return problems


def _channel_languages(ctx: CheckContext, params: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for plan in ctx.channel_plans:
        if ctx.parts(plan):
            continue
        if not plan.languages:
            problems.append(
                _("%(channel)s publishes no language: its post manager sets them on the channel's page.")
                % {"channel": channel_name(plan)}
            )
            continue
        languages = plan.languages[:1] if plan.plan == LanguagePlan.SINGLE else plan.languages
        problems.append(
            _("%(channel)s publishes in %(languages)s: write the text in one of them, or untick the channel.")
            % {"channel": channel_name(plan), "languages": language_names(list(languages))}
        )
    return problems


def _split_codes(value: str) -> list[str]:
    return [code.strip().lower() for code in re.split(r"[,;\s]+", value or "") if code.strip()]


def _required_languages(ctx: CheckContext, params: dict[str, Any]) -> list[str]:
    if ctx.kind in (PublicationKind.CONSULAR_ADVICE, PublicationKind.CRISIS_ADVISORY):
        required = _split_codes(params.get("advisory_languages", "nl,fr"))
    elif params.get("follow_post_policy", True):
        required = ctx.post.publishing_language_list
    else:
        required = []
    missing = [language for language in required if not ctx.variants.get(language, "").strip()]
    if not missing:
        return []
    return [_("Add the text in: %(languages)s.") % {"languages": language_names(missing)}]


def _alt_text(ctx: CheckContext, params: dict[str, Any]) -> list[str]:
    problems = []
    for number, alts in enumerate(ctx.alt_texts, start=1):
        missing = [lang for lang in sorted(ctx.variants) if not (alts.get(lang) or "").strip()]
        if missing:
            problems.append(
                _("Image %(number)s has no description (alt text) in: %(languages)s.")
                % {"number": number, "languages": language_names(missing)}
            )
    return problems


def _lead_time(ctx: CheckContext, params: dict[str, Any]) -> list[str]:
    hours = int(params.get("hours", 48))
    if ctx.scheduled_at is None:
        return []
    if ctx.scheduled_at - timezone.now() < timedelta(hours=hours):
        return [
            _("Submit at least %(hours)s hours before the publication time, so that central can review it.")
            % {"hours": hours}
        ]
    return []


def _campaign_hashtag(ctx: CheckContext, params: dict[str, Any]) -> list[str]:
    if not ctx.campaign_hashtags:
        return []
    tags = [tag.lower() for tag in ctx.campaign_hashtags]
    missing = [
        lang for lang, text in sorted(ctx.variants.items()) if not any(tag in text.lower() for tag in tags)
    ]
    if not missing:
        return []
    return [
        _("Use a campaign hashtag (%(tags)s) in: %(languages)s.")
        % {"tags": " ".join(ctx.campaign_hashtags), "languages": language_names(missing)}
    ]


def _sensitive_terms(ctx: CheckContext, params: dict[str, Any]) -> list[str]:
    terms = [term.strip() for term in (params.get("terms") or "").split(",") if term.strip()]
    found = sorted(
        {
            term
            for term in terms
            for text in ctx.variants.values()
            if re.search(rf"\b{re.escape(term)}\b", text, re.I)
        }
    )
    if not found:
        return []
    return [_("Sensitive terms to double-check: %(terms)s.") % {"terms": ", ".join(found)}]


_HTTP_LINK = re.compile(r"\bhttp://\S+", re.IGNORECASE)


def _https_links(ctx: CheckContext, params: dict[str, Any]) -> list[str]:
    links = sorted({m.group() for text in ctx.variants.values() for m in _HTTP_LINK.finditer(text)})
    if not links:
        return []
    return [_("Use https for these links: %(links)s.") % {"links": ", ".join(links)}]


def _frequency(ctx: CheckContext, params: dict[str, Any]) -> list[str]:
    if not ctx.channel_ids or ctx.local_date is None:
        return []
    week_start = ctx.local_date - timedelta(days=ctx.local_date.weekday())
    planned = Publication.objects.filter(
        channels__in=ctx.channel_ids,
        local_date__gte=week_start,
        local_date__lt=week_start + timedelta(days=7),
    ).exclude(status=PublicationStatus.CANCELLED)
    if ctx.publication_id is not None:  # a saved publication does not count against itself
        planned = planned.exclude(pk=ctx.publication_id)
    per_channel = planned.values("channels").annotate(n=Count("pk", distinct=True))
    counts = {row["channels"]: row["n"] for row in per_channel}
    problems = []
    for channel in Channel.objects.filter(pk__in=ctx.channel_ids):
        total = counts.get(channel.pk, 0) + 1
        if channel.weekly_target and total > channel.weekly_target:
            problems.append(
                _("%(channel)s would have %(total)s publications that week; its target is %(target)s.")
                % {"channel": channel, "total": total, "target": channel.weekly_target}
            )
    return problems


def _machine_translation_checked(ctx: CheckContext, params: dict[str, Any]) -> list[str]:
    unchecked = sorted(language for language in ctx.unchecked_translations if ctx.variants.get(language))
    if not unchecked:
        return []
    return [
        _("Machine translation not yet checked: %(languages)s. Read it, then confirm it or correct it.")
        % {"languages": language_names(unchecked)}
    ]


ADVISORY_KINDS = (PublicationKind.CONSULAR_ADVICE, PublicationKind.CRISIS_ADVISORY)

CATALOGUE: list[Rule] = [
    Rule(
        "text-length",
        gettext_lazy("Text length per platform"),
        gettext_lazy(
            "Every post a channel sends (each post of a thread, or the one post with every language) "
            "fits its platform, counted the way the platform counts."
        ),
        BLOCKING,
        _text_length,
    ),
    Rule(
        "channel-languages",
        gettext_lazy("Every channel has something to send"),
        gettext_lazy(
            "Each channel gets a text in a language it publishes. Texts in other languages are simply "
            "not sent there."
        ),
        BLOCKING,
        _channel_languages,
    ),
    Rule(
        "required-languages",
        gettext_lazy("Required languages"),
        gettext_lazy(
            "Consular advice and crisis advisories are published in Dutch and French; other publications "
            "follow the post's publishing-language policy."
        ),
        BLOCKING,
        _required_languages,
        params={"advisory_languages": "nl,fr", "follow_post_policy": True},
    ),
    Rule(
        "alt-text",
        gettext_lazy("Alt text on every image"),
        gettext_lazy(
            "Every image has a description for people who cannot see it, in each language published."
        ),
        BLOCKING,
        _alt_text,
    ),
    Rule(
        "lead-time",
        gettext_lazy("Time for review"),
        gettext_lazy(
            "A publication is submitted some time before it goes out, so that central can review it."
        ),
        BLOCKING,
        _lead_time,
        params={"hours": 48},
        exempt_kinds=(PublicationKind.CRISIS_ADVISORY,),
    ),
    Rule(
        "campaign-hashtag",
        gettext_lazy("Campaign hashtag"),
        gettext_lazy("A publication in a campaign uses one of the campaign's hashtags in every language."),
        WARNING,
        _campaign_hashtag,
    ),
    Rule(
        "sensitive-terms",
        gettext_lazy("Sensitive terms"),
        gettext_lazy("Words on the watch list are pointed out to the author and the reviewer."),
        WARNING,
        _sensitive_terms,
        params={"terms": "coup, terrorist, evacuation, hostage, sanctions"},
    ),
    Rule(
        "https-links",
        gettext_lazy("Secure links"),
        gettext_lazy("Links start with https://."),
        BLOCKING,
        _https_links,
    ),
    Rule(
        "frequency",
        gettext_lazy("Frequency per channel"),
        gettext_lazy("A channel does not publish more often in a week than its weekly target."),
        WARNING,
        _frequency,
    ),
    Rule(
        "machine-translation-checked",
        gettext_lazy("Machine translations checked"),
        gettext_lazy(
            "A text drafted by machine translation is read by a person, who confirms or corrects it, "
            "before the publication is sent to review."
        ),
        BLOCKING,
        _machine_translation_checked,
    ),
]
RULES = {rule.code: rule for rule in CATALOGUE}
#: Parameters that must be whole numbers.
INTEGER_PARAMS = {("lead-time", "hours")}


@dataclass
class Configured:
    """A rule with central's settings applied."""

    rule: Rule
    enabled: bool
    severity: str
    post_kinds: list[str]
    platforms: list[str]
    publication_kinds: list[str]
    params: dict[str, Any]
    explanation: str

    @property
    def code(self) -> str:
        return self.rule.code

    @property
    def title(self) -> str:
        return str(self.rule.title)

    def applies_to(self, ctx: CheckContext) -> bool:
        if not self.enabled:
            return False
        if self.post_kinds and ctx.post.kind not in self.post_kinds:
            return False
        if self.publication_kinds and ctx.kind not in self.publication_kinds:
            return False
        if ctx.kind in self.rule.exempt_kinds and not self.publication_kinds:
            return False
        return not (self.platforms and not set(ctx.platforms) & set(self.platforms))


def configured_rules(language: str | None = None) -> list[Configured]:
    """Every rule of the catalogue with central's settings (one query)."""
    language = language or (get_language() or "en")[:2]
    rows = {row.code: row for row in Guideline.objects.all()}
    configured = []
    for rule in CATALOGUE:
        row = rows.get(rule.code)
        explanation = ""
        if row is not None:
            explanation = row.explanations.get(language) or ""
        configured.append(
            Configured(
                rule=rule,
                enabled=row.enabled if row else True,
                severity=row.severity if row else rule.severity,
                post_kinds=row.post_kind_list if row else [],
                platforms=row.platform_list if row else [],
                publication_kinds=row.publication_kind_list if row else list(rule.publication_kinds),
                params={**rule.params, **(row.params if row else {})},
                explanation=explanation or str(rule.explanation),
            )
        )
    return configured


def check(ctx: CheckContext, rules: list[Configured] | None = None) -> list[Result]:
    """Run every enabled rule in scope; one Result per rule, failures first."""
    results = []
    for configured in rules if rules is not None else configured_rules():
        if not configured.applies_to(ctx):
            continue
        problems = configured.rule.check(ctx, configured.params)
        results.append(
            Result(
                code=configured.code,
                title=configured.title,
                severity=configured.severity,
                passed=not problems,
                problems=problems,
            )
        )
    return sorted(results, key=lambda r: (r.passed, r.severity != BLOCKING, r.code))


def advisory_languages() -> list[str]:
    """The languages every consular advice and crisis advisory is written in, as central
    set the required-languages rule (Dutch and French unless changed); the advisory
    composer and the crisis workflow ask this rather than naming languages themselves."""
    configured = next(rule for rule in configured_rules() if rule.code == "required-languages")
    codes = _split_codes(configured.params.get("advisory_languages", ""))
    return codes or _split_codes(RULES["required-languages"].params["advisory_languages"])


def blocking_failures(results: list[Result]) -> list[Result]:
    return [result for result in results if result.blocking]


#: The rules about what each channel sends. They are run again when a publication is
#: approved: a channel's plan or languages may have changed since it was submitted.
SENDING_RULES = ("text-length", "channel-languages")


def sending_failures(publication: Publication) -> list[Result]:
    """The blocking failures of the rules about what each channel sends, on the channels as
    they are now (central's settings applied: a rule central turned off stays off)."""
    rules = [rule for rule in configured_rules() if rule.code in SENDING_RULES]
    return blocking_failures(check(CheckContext.for_publication(publication), rules))


def plans_that_would_not_fit(channel: Channel) -> list[str]:
    """What would go wrong on the publications planned on `channel` (in review or approved,
    due or not, whose delivery there has not yet fixed its posts) if it published as it is
    now set, unsaved: one line each for those whose posts would be too long or that would
    have nothing to send there."""
    from calendar_app.models import Delivery, DeliveryStatus

    # A delivery whose parts are frozen (or that went out) sends what it holds, whatever
    # the channel says now; every other one, due or not, is made from the channel as set.
    fixed = Delivery.objects.filter(channel=channel).filter(
        ~Q(status=DeliveryStatus.PENDING) | Q(parts__isnull=False)
    )
    planned = (
        Publication.objects.filter(
            channels=channel, status__in=[PublicationStatus.IN_REVIEW, PublicationStatus.APPROVED]
        )
        .exclude(pk__in=fixed.values("publication_id"))
        .prefetch_related("variants", "assets")
        .order_by("scheduled_at")
    )
    plan = sending.ChannelPlan.of(channel)
    problems = []
    for publication in planned:
        variants = list(publication.variants.all())
        parts = sending.parts_for(
            plan,
            {v.language: v.text for v in variants},
            {v.language: dict(v.platform_texts) for v in variants},
            images=len(publication.assets.all()),
        )
        if not parts:
            problem = _("nothing to send in this channel's languages")
        elif not all(part.fits for part in parts):
            problem = "; ".join(part_too_long(plan, part, len(parts)) for part in parts if not part.fits)
        else:
            continue
        problems.append(
            _("“%(title)s” (%(status)s): %(problem)s")
            % {"title": publication.title, "status": publication.get_status_display(), "problem": problem}
        )
    return problems


def current_version() -> int:
    """The number of the guidelines now in force (0 before any change)."""
    latest = GuidelineVersion.objects.order_by("-number").values_list("number", flat=True).first()
    return latest or 0


def post_kind_choices() -> list[tuple[str, StrOrPromise]]:
    return list(PostKind.choices)
