"""What a channel sends: the one answer every counter, guideline check, preview, queue
card, "publish now" list, webhook document and API connector takes.

A publication has a text per language (and, per language, an optional text for one
platform). A channel publishes some languages (its own, or its post's policy) and has a
language plan: a thread, separate posts, one combined post or one language only.
`parts_for` turns the two into the exact platform posts, in order, each with its text,
languages, length as the platform counts it, limit and how many images it carries.

Nothing here touches the database: callers load the channel (with its post) and the texts
once, so pages that show many publications ask no query per channel.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from calendar_app import counting
from diplomacy.models import SEPARATOR_TEXTS, LanguagePlan

if TYPE_CHECKING:
    from diplomacy.models import Channel

#: Images one platform post may carry, as each platform's API allows.
IMAGE_LIMITS: dict[str, int] = {
    "x": 4,
    "bluesky": 4,
    "mastodon": 4,
    "threads": 10,
    "facebook": 10,
    "instagram": 10,
    "linkedin": 20,
    "youtube": 1,
}


@dataclass(frozen=True)
class ChannelPlan:
    """A channel as `parts_for` needs it: its platform, plan, languages in order and
    separator text. Built from a Channel with `of`, or by hand in tests and forms."""

    platform: str
    plan: str
    languages: tuple[str, ...]
    separator: str = SEPARATOR_TEXTS["blank_line"]
    channel_id: int | None = None
    handle: str = ""

    @classmethod
    def of(cls, channel: Channel) -> ChannelPlan:
        """The channel's plan; reads channel.post when the channel has no languages of its own."""
        return cls(
            platform=channel.platform,
            plan=channel.language_plan,
            languages=tuple(channel.publishing_languages),
            separator=SEPARATOR_TEXTS.get(channel.separator, SEPARATOR_TEXTS["blank_line"]),
            channel_id=channel.pk,
            handle=channel.handle,
        )


@dataclass(frozen=True)
class Part:
    """One platform post of a delivery."""

    #: 1 for the first post; a thread's part n answers part n - 1.
    number: int
    languages: tuple[str, ...]
    text: str
    #: The text's length as the platform counts it, and the platform's limit.
    used: int
    limit: int
    #: How many of the publication's images (the first ones, in order) this post carries.
    images: int

    @property
    def language(self) -> str:
        """The language a platform records for the post (the first, for a combined one)."""
        return self.languages[0]

    @property
    def over(self) -> int:
        return max(0, self.used - self.limit)

    @property
    def fits(self) -> bool:
        return self.used <= self.limit


def text_for(
    language: str, platform: str, texts: Mapping[str, str], overrides: Mapping[str, Mapping[str, str]]
) -> str:
    """The text of `language` on `platform`: its own text for that platform when it has one."""
    own = ((overrides.get(language) or {}).get(platform) or "").strip()
    return own or (texts.get(language) or "").strip()


def languages_sent(plan: ChannelPlan, texts: Mapping[str, str]) -> list[str]:
    """The languages the channel publishes and the publication has a text in, in the
    channel's order; a one-language channel takes only its first."""
    written = [language for language in plan.languages if (texts.get(language) or "").strip()]
    if plan.plan == LanguagePlan.SINGLE:
        return [language for language in written if language == plan.languages[0]]
    return written


def languages_left_out(plan: ChannelPlan, texts: Mapping[str, str]) -> list[str]:
    """Languages the publication has a text in that this channel does not publish."""
    sent = set(languages_sent(plan, texts))
    return sorted(language for language, text in texts.items() if text.strip() and language not in sent)


def parts_for(
    plan: ChannelPlan,
    texts: Mapping[str, str],
    overrides: Mapping[str, Mapping[str, str]] | None = None,
    *,
    images: int = 0,
) -> list[Part]:
    """The platform posts `plan`'s channel makes of a publication, in the order they go out.

    `texts` is {language: text}; `overrides` {language: {platform: text}}; `images` how
    many images the publication has. An empty list means the channel has nothing to send
    (no text in any of its languages). A thread carries the images on its first post, so
    the answers read as one message; separate posts each carry them.
    """
    overrides = overrides or {}
    platform = plan.platform
    languages = [
        language for language in languages_sent(plan, texts) if text_for(language, platform, texts, overrides)
    ]
    if not languages:
        return []
    carried = min(images, IMAGE_LIMITS.get(platform, 1))
    limit = counting.LIMITS[platform]
    if plan.plan == LanguagePlan.COMBINED:
        groups: list[list[str]] = [languages]
    else:
        groups = [[language] for language in languages]
    parts = []
    for number, group in enumerate(groups, start=1):
        text = plan.separator.join(text_for(language, platform, texts, overrides) for language in group)
        parts.append(
            Part(
                number=number,
                languages=tuple(group),
                text=text,
                used=counting.count_for_platform(text, platform),
                limit=limit,
                images=carried if (number == 1 or plan.plan == LanguagePlan.SEPARATE) else 0,
            )
        )
    return parts


def revision_texts(content: Mapping[str, object]) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """({language: text}, {language: {platform: text}}) of a stored revision's content."""
    texts: dict[str, str] = {}
    overrides: dict[str, dict[str, str]] = {}
    variants = content.get("variants") or {}
    assert isinstance(variants, dict)
    for language, (text, platform_texts) in variants.items():
        texts[language] = text or ""
        overrides[language] = dict(platform_texts or {})
    return texts, overrides


@dataclass(frozen=True)
class ChannelParts:
    """What one channel of a publication sends."""

    channel: Channel
    plan: ChannelPlan
    parts: list[Part]
    #: Languages written that this channel does not publish.
    left_out: list[str]

    @property
    def fits(self) -> bool:
        return all(part.fits for part in self.parts)


def for_channels(
    channels: Iterable[Channel],
    texts: Mapping[str, str],
    overrides: Mapping[str, Mapping[str, str]] | None = None,
    *,
    images: int = 0,
) -> list[ChannelParts]:
    """What each of `channels` sends (each channel's post loaded by the caller)."""
    result = []
    for channel in channels:
        plan = ChannelPlan.of(channel)
        result.append(
            ChannelParts(
                channel=channel,
                plan=plan,
                parts=parts_for(plan, texts, overrides, images=images),
                left_out=languages_left_out(plan, texts),
            )
        )
    return result
