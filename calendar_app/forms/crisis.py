"""Crisis mode: declaring a crisis, composing an advisory, break-glass, advisory templates."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, cast

from django import forms
from django.forms import BoundField
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from calendar_app import guidelines, translation
from calendar_app.forms.proposals import TargetFieldsMixin
from calendar_app.forms.translation import TranslationHelpMixin
from calendar_app.forms.widgets import CountryMultipleChoiceField, posts_picker
from calendar_app.models import (
    NETWORK_LANGUAGES,
    CrisisTemplate,
    Delivery,
    DeliveryStatus,
    ProposalTarget,
    Publication,
    PublicationStatus,
    is_whole_number,
    language_name,
    language_names,
)
from calendar_app.workflow import AdvisoryContent
from diplomacy.models import Channel, Platform, Post, User

#: A channel is active when something went out on it within this time; the composer ticks
#: only those by default, so that an advisory does not go to accounts nobody reads.
ACTIVE_WITHIN = timedelta(days=30)


def recently_active_channel_ids(channel_ids: Iterable[int], now: datetime | None = None) -> set[int]:
    """Of `channel_ids`, those with a delivery delivered or recorded, or a publication
    published on them, in the last ACTIVE_WITHIN (two queries, whatever the number)."""
    ids = list(channel_ids)
    now = now or timezone.now()
    since = now - ACTIVE_WITHIN
    delivered = Delivery.objects.filter(
        channel_id__in=ids, status=DeliveryStatus.DELIVERED, delivered_at__gte=since, delivered_at__lte=now
    ).values_list("channel_id", flat=True)
    published = Publication.channels.through.objects.filter(
        channel_id__in=ids,
        publication__status=PublicationStatus.PUBLISHED,
        publication__scheduled_at__gte=since,
        publication__scheduled_at__lte=now,
    ).values_list("channel_id", flat=True)
    return set(delivered) | set(published)


def _platform_count(platform: str, count: int) -> str:
    if platform == Platform.FACEBOOK:
        return ngettext("%(count)s Facebook page", "%(count)s Facebook pages", count) % {"count": count}
    if platform == Platform.LINKEDIN:
        return ngettext("%(count)s LinkedIn page", "%(count)s LinkedIn pages", count) % {"count": count}
    if platform == Platform.YOUTUBE:
        return ngettext("%(count)s YouTube channel", "%(count)s YouTube channels", count) % {"count": count}
    return ngettext("%(count)s %(platform)s account", "%(count)s %(platform)s accounts", count) % {
        "count": count,
        "platform": Platform(platform).label,
    }


def reach_summary(by_post: dict[int, list[Channel]]) -> str:
    """ "107 posts, 101 Facebook pages, 38 X accounts": what an advisory would reach."""
    per_platform: dict[str, int] = {}
    for channels in by_post.values():
        for channel in channels:
            per_platform[channel.platform] = per_platform.get(channel.platform, 0) + 1
    posts = len(by_post)
    parts = [ngettext("%(count)s post", "%(count)s posts", posts) % {"count": posts}]
    order = [value for value, _label in Platform.choices]
    parts += [
        _platform_count(platform, per_platform[platform]) for platform in order if platform in per_platform
    ]
    return ", ".join(parts)


class DeclareCrisisForm(TargetFieldsMixin, forms.Form):
    """Central names the scope freely; a post manager declares for the posts they manage."""

    title = forms.CharField(
        label=_("Title"), max_length=200, help_text=_("For example: Coup attempt in Turkey.")
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What is happening, in a few words, for everyone who sees the banner."),
    )
    target = forms.ChoiceField(
        label=_("Where?"), choices=ProposalTarget.choices, widget=forms.RadioSelect, initial="countries"
    )
    target_countries = CountryMultipleChoiceField(label=_("Countries"), required=False)
    target_posts = forms.ModelMultipleChoiceField(
        label=_("Posts"), queryset=Post.objects.none(), required=False, widget=posts_picker()
    )

    def __init__(
        self, *args: Any, central: bool, managed_posts: list[Post] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        target_posts = cast("forms.ModelMultipleChoiceField[Post]", self.fields["target_posts"])
        if central:
            target_posts.queryset = Post.objects.filter(active=True).order_by("name")
        else:
            # A post manager's crisis is for their own post(s), named one by one.
            del self.fields["target"]
            del self.fields["target_countries"]
            target_posts.queryset = Post.objects.filter(
                pk__in=[post.pk for post in managed_posts or []]
            ).order_by("name")
            target_posts.required = True
            if managed_posts and len(managed_posts) == 1:
                target_posts.initial = [managed_posts[0].pk]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if "target" in self.fields:
            self.clean_targets(cleaned)
        else:
            cleaned["target"] = ProposalTarget.POSTS
            cleaned["target_countries"] = []
        return cleaned


class AdvisoryForm(TranslationHelpMixin, forms.Form):
    """One advisory: the guidelines' advisory languages required (Dutch and French unless
    central changed them); the other network languages and the posts' host languages optional."""

    title = forms.CharField(label=_("Internal title"), max_length=200)
    platforms = forms.MultipleChoiceField(
        label=_("Platforms"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The advisory goes to every channel of the affected posts on these platforms."),
    )

    def __init__(
        self,
        *args: Any,
        platforms: list[str],
        extra_languages: list[str],
        template: CrisisTemplate | None = None,
        channels: list[Channel] | None = None,
        active_channel_ids: set[int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.required_languages = guidelines.advisory_languages()
        self.extra_languages = [
            code
            for code in dict.fromkeys(["nl", "fr", "en", "de", *extra_languages])
            if code not in self.required_languages
        ]
        for code in self.required_languages:
            self.fields[f"text_{code}"] = forms.CharField(
                label=language_name(code), widget=forms.Textarea(attrs={"rows": 4, "lang": code})
            )
        for code in self.extra_languages:
            self.fields[f"text_{code}"] = forms.CharField(
                label=_("%(language)s (optional)") % {"language": language_name(code)},
                required=False,
                widget=forms.Textarea(attrs={"rows": 4, "lang": code}),
            )
        self.languages = [*self.required_languages, *self.extra_languages]
        for code in self.languages:
            self.add_provenance_fields(code)
        choices = [(value, label) for value, label in Platform.choices if value in platforms]
        cast(forms.MultipleChoiceField, self.fields["platforms"]).choices = choices
        self.fields["platforms"].initial = [value for value, _label in choices]
        if template is not None and not self.is_bound:
            self.fields["title"].initial = template.name
            for code, text in (template.texts or {}).items():
                if f"text_{code}" in self.fields:
                    self.fields[f"text_{code}"].initial = text
        self.channel_list = channels
        self.active_channel_ids = active_channel_ids or set()
        if channels is not None:
            self._add_channel_fields(channels)

    def _add_channel_fields(self, channels: list[Channel]) -> None:
        """One box per channel of the affected posts; ticked by default: the active ones."""
        self.fields["channels"] = forms.MultipleChoiceField(
            label=_("Channels"),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            choices=[
                (str(channel.pk), f"{channel.get_platform_display()} {channel.handle}")
                for channel in channels
            ],
            initial=[str(channel.pk) for channel in channels if channel.pk in self.active_channel_ids],
        )
        # Says the boxes were on the page: none ticked then means none, not "all".
        self.fields["channels_shown"] = forms.CharField(widget=forms.HiddenInput, initial="1", required=False)

    def ticked_channel_ids(self) -> set[int]:
        """The channels ticked now: as posted, or the defaults on a first render."""
        values = self["channels"].value() or []
        # A forged "²" or a 30-digit id is no channel: left out, never int()'s ValueError or
        # the database's overflow.
        return {int(value) for value in values if is_whole_number(value) and len(str(value)) < 12}

    def chosen_platforms(self) -> list[str]:
        values = self["platforms"].value() or []
        return [value for value in values if value in dict(self.fields["platforms"].choices)]  # type: ignore[attr-defined]

    def channel_rows(self) -> list[dict[str, Any]]:
        """The channels by post, for the composer: each with its box's state and whether it is quiet."""
        ticked = self.ticked_channel_ids()
        rows: dict[int, dict[str, Any]] = {}
        for channel in self.channel_list or []:
            row = rows.setdefault(channel.post_id, {"post": channel.post, "channels": []})
            row["channels"].append(
                {
                    "channel": channel,
                    "ticked": channel.pk in ticked,
                    "active": channel.pk in self.active_channel_ids,
                }
            )
        return list(rows.values())

    def draft_content(self) -> AdvisoryContent:
        """What the composer holds now, valid or not, for the counts before sending. Before
        any text is written, every language offered stands in: the counts then say what the
        ticked channels could reach, and "Count again" narrows them to the texts written."""
        typed = {code: str(self[f"text_{code}"].value() or "") for code in self.languages}
        texts = {code: text for code, text in typed.items() if text.strip()} or dict.fromkeys(
            self.languages, "-"
        )
        return AdvisoryContent(
            title="",
            variants=texts,
            platforms=self.chosen_platforms(),
            channel_ids=sorted(self.ticked_channel_ids()) if self.channel_list is not None else None,
        )

    def texts_help(self) -> str:
        return _(
            "Required: %(languages)s; the other languages are optional. Each post publishes the texts "
            "in the network's languages and in its own host languages."
        ) % {"languages": language_names(self.required_languages)}

    def text_name(self, language: str) -> str:
        return f"text_{language}"

    def language_fields(self) -> list[BoundField]:
        return [self[f"text_{code}"] for code in (*self.required_languages, *self.extra_languages)]

    def language_rows(self) -> list[dict[str, Any]]:
        """Each text with its translation help (a machine draft's state, or the offer)."""
        offer = translation.enabled()
        return [
            {**self.translation_help(code, offer=offer), "field": self[f"text_{code}"]}
            for code in self.languages
        ]

    def content(self) -> AdvisoryContent:
        data = self.cleaned_data
        codes = (*self.required_languages, *self.extra_languages)
        variants = {code: data.get(f"text_{code}", "") for code in codes}
        channel_ids = None
        if "channels" in self.fields and data.get("channels_shown"):
            channel_ids = [int(value) for value in data.get("channels") or []]
        return AdvisoryContent(
            title=data["title"],
            variants={code: text for code, text in variants.items() if text and text.strip()},
            platforms=list(data["platforms"]),
            machine_texts=self.machine_texts(),
            channel_ids=channel_ids,
        )


class BreakGlassForm(AdvisoryForm):
    """The advisory, the post, and why it cannot wait for central."""

    post = forms.ModelChoiceField(label=_("Post"), queryset=Post.objects.none(), empty_label=None)
    reason = forms.CharField(
        label=_("Why it cannot wait for central's approval"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm = forms.BooleanField(
        label=_("I publish this at once without review; central will review it after the fact."),
    )

    def __init__(self, *args: Any, posts: list[Post], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[Post]", self.fields["post"]).queryset = Post.objects.filter(
            pk__in=[post.pk for post in posts]
        ).order_by("name")


def template_languages() -> list[str]:
    """The languages a crisis template is written in: the advisory languages first, then
    the other network languages."""
    return list(dict.fromkeys([*guidelines.advisory_languages(), *NETWORK_LANGUAGES]))


class CrisisTemplateForm(TranslationHelpMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)

    def __init__(self, *args: Any, template: CrisisTemplate | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.template = template
        self.languages = template_languages()
        required = guidelines.advisory_languages()
        for code in self.languages:
            self.fields[f"text_{code}"] = forms.CharField(
                label=language_name(code),
                required=code in required,
                max_length=5000,
                widget=forms.Textarea(attrs={"rows": 4, "lang": code}),
                initial=(template.texts or {}).get(code, "") if template else "",
            )
            self.add_provenance_fields(code)
        if template is not None:
            self.fields["name"].initial = template.name

    def text_name(self, language: str) -> str:
        return f"text_{language}"

    def language_rows(self) -> list[dict[str, Any]]:
        offer = translation.enabled()
        return [
            {**self.translation_help(code, offer=offer), "field": self[f"text_{code}"]}
            for code in self.languages
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        # A template is a text central vouches for: a machine draft is read first.
        unchecked = self.unchecked_translations()
        if unchecked:
            raise forms.ValidationError(
                _(
                    "Machine translation not yet checked: %(languages)s. "
                    "Read it, then confirm it or correct it."
                )
                % {"languages": language_names(unchecked)},
                code="unchecked_translation",
            )
        return cleaned

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        others = CrisisTemplate.objects.filter(name__iexact=name)
        if self.template is not None:
            others = others.exclude(pk=self.template.pk)
        if others.exists():
            raise forms.ValidationError(_("A template with this name exists already."))
        return name

    def save(self, user: User) -> CrisisTemplate:
        template = self.template or CrisisTemplate()
        template.name = self.cleaned_data["name"]
        template.texts = {
            code: self.cleaned_data[f"text_{code}"].strip()
            for code in self.languages
            if self.cleaned_data.get(f"text_{code}", "").strip()
        }
        template.updated_by = user
        template.save()
        return template
