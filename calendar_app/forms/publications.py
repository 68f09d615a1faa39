"""The publication editor, rescheduling and duplication: fields in the post's zone and languages."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Protocol, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calendar_app import guidelines, images, sending, translation
from calendar_app.forms.translation import TranslationHelpMixin
from calendar_app.models import (
    NETWORK_LANGUAGES,
    Asset,
    Campaign,
    Publication,
    PublicationKind,
    is_whole_number,
    language_name,
)
from calendar_app.sending import ChannelPlan
from calendar_app.timezones import check_local_time
from calendar_app.workflow import PublicationContent
from diplomacy.formats import zone_label
from diplomacy.models import Channel, Platform, Post
from diplomacy.widgets import QuickSelectMultiple

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

#: How far ahead a publication may be planned.
MAX_DAYS_AHEAD = 2 * 365


def languages_for(post: Post) -> list[str]:
    """Content languages offered for a post: the network's and the post's host languages."""
    return list(dict.fromkeys([*NETWORK_LANGUAGES, *post.host_language_list, *post.publishing_language_list]))


def check_schedule(local_date: date, local_time: time, zone_name: str) -> datetime:
    """The instant for a wall time, refusing DST gaps and times in the past or too far ahead."""
    instant = check_local_time(local_date, local_time, zone_name)
    now = timezone.now()
    if instant < now:
        raise forms.ValidationError(
            _("This time has already passed in %(zone)s. Choose a time in the future."),
            params={"zone": zone_label(zone_name, instant)},
            code="past",
        )
    if instant > now + timedelta(days=MAX_DAYS_AHEAD):
        raise forms.ValidationError(_("Plan at most two years ahead."), code="too_far")
    return instant


def channel_plan_attribute(channel: Channel) -> str:
    """The channel's plan as the live counters read it (JSON): sending.ChannelPlan, the
    one answer to what the channel sends, plus a label to show. The page never works the
    plan out itself."""
    plan = asdict(ChannelPlan.of(channel))
    plan["label"] = str(channel)  # "X @BelgiumInIstanbul", as the guideline messages name it
    return json.dumps(plan, ensure_ascii=False)


class ChannelCheckboxes(forms.CheckboxSelectMultiple):
    """Channel checkboxes that tell the page their platform and language plan (for the
    live counters)."""

    def create_option(
        self,
        name: str,
        value: Any,
        label: int | str,
        selected: bool,
        index: int,
        subindex: int | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-platform"] = instance.platform
            option["attrs"]["data-channel-plan"] = channel_plan_attribute(instance)
        return option


class _ZonedForm(Protocol):
    """What ScheduleFieldsMixin needs of the form it is mixed into."""

    zone_name: str

    def add_error(self, field: str | None, error: forms.ValidationError | StrOrPromise) -> None: ...


class ScheduleFieldsMixin:
    """Date and time fields in the post's zone, checked together."""

    zone_name: str

    def clean_schedule(self: _ZonedForm, cleaned: dict[str, Any]) -> None:
        local_date, local_time = cleaned.get("local_date"), cleaned.get("local_time")
        if local_date and local_time:
            try:
                check_schedule(local_date, local_time, self.zone_name)
            except forms.ValidationError as exc:
                self.add_error("local_time", exc)


class PublicationForm(TranslationHelpMixin, ScheduleFieldsMixin, forms.Form):
    """The editor, built for one post: its channels, its languages, its zone."""

    title = forms.CharField(label=_("Internal title"), max_length=200)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=PublicationKind.choices, initial=PublicationKind.REGULAR
    )
    campaign = forms.ModelChoiceField(label=_("Campaign"), queryset=Campaign.objects.none(), required=False)
    # Its queryset is the post's channels, set in __init__.
    channels: forms.ModelMultipleChoiceField[Channel] = forms.ModelMultipleChoiceField(
        label=_("Channels"),
        queryset=None,
        widget=ChannelCheckboxes,
        help_text=_("Where this publication goes out."),
    )
    local_date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    local_time = forms.TimeField(label=_("Time"), widget=forms.TimeInput(attrs={"type": "time"}))
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)
    image = forms.FileField(
        label=_("Add an image"),
        required=False,
        help_text=_("JPEG, PNG, WebP or GIF, at most 20 MB and 50 megapixels."),
    )

    def __init__(self, *args: Any, post: Post, publication: Publication | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.post = post
        self.publication = publication
        self.zone_name = publication.timezone if publication else post.timezone
        channels = cast("forms.ModelMultipleChoiceField[Channel]", self.fields["channels"])
        channels.queryset = post.channels.filter(active=True).order_by("platform", "handle")
        cast("forms.ModelChoiceField[Campaign]", self.fields["campaign"]).queryset = Campaign.objects.filter(
            ends_on__gte=timezone.localdate() - timedelta(days=90)
        )
        self.fields["local_time"].help_text = _("Local time in %(zone)s.") % {
            "zone": zone_label(self.zone_name)
        }
        self.languages = languages_for(post)
        self.platforms = sorted({channel.platform for channel in channels.queryset})
        for language in self.languages:
            self.fields[f"variant_{language}"] = forms.CharField(
                label=_("Text in %(language)s") % {"language": language_name(language)},
                required=False,
                widget=forms.Textarea(attrs={"rows": 4, "lang": language}),
                max_length=63206,
            )
            for platform in self.platforms:
                self.fields[f"variant_{language}__{platform}"] = forms.CharField(
                    label=_("Text in %(language)s for %(platform)s only")
                    % {"language": language_name(language), "platform": Platform(platform).label},
                    required=False,
                    widget=forms.Textarea(attrs={"rows": 2, "lang": language}),
                )
            self.add_provenance_fields(language)
            self.fields[f"alt_{language}"] = forms.CharField(
                label=_("Image description (alt text) in %(language)s")
                % {"language": language_name(language)},
                required=False,
                max_length=1000,
            )
        if publication is not None:
            self.fields["revision"].required = True
            self.initial.update(
                {
                    "title": publication.title,
                    "kind": publication.kind,
                    "campaign": publication.campaign_id,
                    "channels": [c.pk for c in publication.channels.all()],
                    "local_date": publication.local_date,
                    "local_time": publication.local_time.strftime("%H:%M"),
                    "revision": publication.revision,
                }
            )
            first_image = next(iter(publication.assets.all()), None)
            if first_image is not None:
                for language, text in first_image.alt_texts.items():
                    self.initial[f"alt_{language}"] = text
            for variant in publication.variants.all():
                self.initial[f"variant_{variant.language}"] = variant.text
                machine = translation.machine_text_of(variant)
                if machine is not None:
                    self.initial[f"machine_{variant.language}"] = machine.token()
                    self.initial[f"checked_{variant.language}"] = "1" if machine.checked else ""
                for platform, text in variant.platform_texts.items():
                    self.initial[f"variant_{variant.language}__{platform}"] = text

    def variant_rows(self) -> list[dict[str, Any]]:
        """For the template: each language with its text, overrides and alt-text fields, its
        machine draft (if any) and the offer "Draft the French from the Dutch" (if any)."""
        offer = translation.enabled()
        return [
            {
                **self.translation_help(language, offer=offer),
                "text": self[f"variant_{language}"],
                "overrides": [self[f"variant_{language}__{platform}"] for platform in self.platforms],
                "alt": self[f"alt_{language}"],
            }
            for language in self.languages
        ]

    def typed_texts(self) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
        """({language: text}, {language: {platform: text}}) as typed, before validation: the
        live check and the preview judge what the writer sees, including a text the form
        refuses (too long for a channel), which `cleaned_data` no longer holds."""
        data = self.data if self.is_bound else {}

        def typed(name: str) -> str:
            value = data.get(name, "")
            return value.strip() if isinstance(value, str) else ""

        texts = {language: typed(f"variant_{language}") for language in self.languages}
        overrides = {
            language: {platform: typed(f"variant_{language}__{platform}") for platform in self.platforms}
            for language in self.languages
        }
        return {language: text for language, text in texts.items() if text}, overrides

    def text_name(self, language: str) -> str:
        return f"variant_{language}"

    def offered_languages(self) -> list[str]:
        """Drafts are offered for the languages the post publishes in, in its policy's order."""
        return [language for language in self.post.publishing_language_list if language in self.languages]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        unknown = sorted(
            key.removeprefix("variant_").split("__")[0]
            for key in self.data
            if key.startswith("variant_") and key not in self.fields
        )
        if unknown:
            raise forms.ValidationError(
                _("Unknown language code: %(codes)s."), params={"codes": ", ".join(unknown)}, code="language"
            )
        texts = {lang: (cleaned.get(f"variant_{lang}") or "").strip() for lang in self.languages}
        if not any(texts.values()):
            raise forms.ValidationError(_("Write the text in at least one language."), code="no_text")
        self.clean_schedule(cleaned)
        self.clean_lengths(texts, list(cleaned.get("channels") or []))
        upload = cleaned.get("image")
        if upload:
            try:
                cleaned["clean_image"] = images.clean_image(upload)
            except images.ImageRefused as exc:
                self.add_error("image", str(exc))
        # The descriptions go to the new image, or else to the image already shown.
        alts = {lang: (cleaned.get(f"alt_{lang}") or "").strip() for lang in self.languages}
        cleaned["alt_texts"] = {lang: text for lang, text in alts.items() if text}
        return cleaned

    def clean_lengths(self, texts: dict[str, str], channels: list[Channel]) -> None:
        """Every post each channel would send fits its platform: a one-language post's error
        goes on the text it is made of, a combined post's names the channel."""
        overrides = {
            language: {
                p: (self.cleaned_data.get(f"variant_{language}__{p}") or "").strip() for p in self.platforms
            }
            for language in self.languages
        }
        for channel in channels:
            plan = sending.ChannelPlan.of(channel)
            parts = sending.parts_for(plan, texts, overrides)
            for part in parts:
                if part.fits:
                    continue
                if len(part.languages) > 1:
                    self.add_error(None, guidelines.part_too_long(plan, part, len(parts)))
                    continue
                language = part.language
                own = overrides[language].get(channel.platform)
                field = f"variant_{language}__{channel.platform}" if own else f"variant_{language}"
                self.add_error(
                    field,
                    _("Too long for %(channel)s: %(used)s of %(limit)s characters.")
                    % {"channel": guidelines.channel_name(plan), "used": part.used, "limit": part.limit},
                )

    def content(self, new_assets: list[Asset] | None = None) -> PublicationContent:
        data = self.cleaned_data
        return PublicationContent(
            title=data["title"],
            kind=data["kind"],
            campaign=data["campaign"],
            channels=list(data["channels"]),
            local_date=data["local_date"],
            local_time=data["local_time"],
            variants={lang: data.get(f"variant_{lang}") or "" for lang in self.languages},
            platform_texts={
                lang: {p: data.get(f"variant_{lang}__{p}") or "" for p in self.platforms}
                for lang in self.languages
            },
            new_assets=new_assets or [],
            machine_texts=self.machine_texts(),
            removed_asset_ids=[int(pk) for pk in self.data.getlist("remove_asset") if is_whole_number(pk)]
            if hasattr(self.data, "getlist")
            else [],
        )


class RescheduleForm(ScheduleFieldsMixin, forms.Form):
    local_date = forms.DateField(label=_("New date"), widget=forms.DateInput(attrs={"type": "date"}))
    # Without a time (a drag to another day), the publication keeps its local time.
    local_time = forms.TimeField(
        label=_("New time"), widget=forms.TimeInput(attrs={"type": "time"}), required=False
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, publication: Publication, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "local_date": publication.local_date,
                "local_time": publication.local_time.strftime("%H:%M"),
                "revision": publication.revision,
            },
        )
        super().__init__(*args, **kwargs)
        self.publication = publication
        self.zone_name = publication.timezone
        self.fields["local_time"].help_text = _("Local time in %(zone)s.") % {
            "zone": zone_label(self.zone_name)
        }

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("local_time") is None and cleaned.get("local_date"):
            cleaned["local_time"] = self.publication.local_time
        self.clean_schedule(cleaned)
        return cleaned


class DuplicateForm(ScheduleFieldsMixin, forms.Form):
    local_date = forms.DateField(label=_("Date of the copy"), widget=forms.DateInput(attrs={"type": "date"}))
    local_time = forms.TimeField(label=_("Time of the copy"), widget=forms.TimeInput(attrs={"type": "time"}))
    posts = forms.ModelMultipleChoiceField(
        label=_("Copy to these posts"),
        queryset=Post.objects.none(),
        required=False,
        widget=QuickSelectMultiple,
        help_text=_("Empty: the same post."),
    )

    def __init__(self, *args: Any, publication: Publication, to_other_posts: bool, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {"local_date": publication.local_date + timedelta(days=7), "local_time": publication.local_time},
        )
        super().__init__(*args, **kwargs)
        self.zone_name = publication.timezone
        if to_other_posts:
            # Only what the options write: a select of every post, on every publication page.
            cast("forms.ModelMultipleChoiceField[Post]", self.fields["posts"]).queryset = (
                Post.objects.active().order_by("name").only("pk", "name", "timezone")
            )
        else:
            del self.fields["posts"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        posts = cleaned.get("posts")
        zones = {post.timezone for post in posts} if posts else {self.zone_name}
        local_date, local_time = cleaned.get("local_date"), cleaned.get("local_time")
        if local_date and local_time:
            for zone in sorted(zones):
                try:
                    check_schedule(local_date, local_time, zone)
                except forms.ValidationError as exc:
                    self.add_error("local_time", exc)
                    break
        return cleaned
