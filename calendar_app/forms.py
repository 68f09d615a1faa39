"""Forms of the calendar: the publication editor, rescheduling, duplication, images."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calendar_app import counting, guidelines, images
from calendar_app.models import (
    NETWORK_LANGUAGES,
    Campaign,
    Guideline,
    GuidelineVersion,
    ProposalTarget,
    Publication,
    PublicationKind,
    is_whole_number,
    language_name,
)
from calendar_app.timezones import check_local_time
from calendar_app.workflow import AdvisoryContent, PublicationContent
from diplomacy.models import Platform, Post, PostKind, User
from diplomacy.widgets import QuickSelectMultiple

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
            params={"zone": zone_name},
            code="past",
        )
    if instant > now + timedelta(days=MAX_DAYS_AHEAD):
        raise forms.ValidationError(_("Plan at most two years ahead."), code="too_far")
    return instant


class ChannelCheckboxes(forms.CheckboxSelectMultiple):
    """Channel checkboxes that tell the page their platform (for the live counters)."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None) -> dict:
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-platform"] = instance.platform
        return option


class ScheduleFieldsMixin:
    """Date and time fields in the post's zone, checked together."""

    zone_name: str

    def clean_schedule(self, cleaned: dict) -> None:
        local_date, local_time = cleaned.get("local_date"), cleaned.get("local_time")
        if local_date and local_time:
            try:
                check_schedule(local_date, local_time, self.zone_name)
            except forms.ValidationError as exc:
                self.add_error("local_time", exc)


class PublicationForm(ScheduleFieldsMixin, forms.Form):
    """The editor, built for one post: its channels, its languages, its zone."""

    title = forms.CharField(label=_("Internal title"), max_length=200)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=PublicationKind.choices, initial=PublicationKind.REGULAR
    )
    campaign = forms.ModelChoiceField(label=_("Campaign"), queryset=Campaign.objects.none(), required=False)
    channels = forms.ModelMultipleChoiceField(
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

    def __init__(self, *args, post: Post, publication: Publication | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.post = post
        self.publication = publication
        self.zone_name = publication.timezone if publication else post.timezone
        self.fields["channels"].queryset = post.channels.filter(active=True).order_by("platform", "handle")
        self.fields["campaign"].queryset = Campaign.objects.filter(
            ends_on__gte=timezone.localdate() - timedelta(days=90)
        )
        self.fields["local_time"].help_text = _("Local time in %(zone)s.") % {"zone": self.zone_name}
        self.languages = languages_for(post)
        self.platforms = sorted({channel.platform for channel in self.fields["channels"].queryset})
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
                for platform, text in variant.platform_texts.items():
                    self.initial[f"variant_{variant.language}__{platform}"] = text

    def variant_rows(self) -> list[dict]:
        """For the template: each language with its text, overrides and alt-text fields."""
        return [
            {
                "language": language,
                "text": self[f"variant_{language}"],
                "overrides": [self[f"variant_{language}__{platform}"] for platform in self.platforms],
                "alt": self[f"alt_{language}"],
            }
            for language in self.languages
        ]

    def clean(self) -> dict:
        cleaned = super().clean()
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
        channels = cleaned.get("channels") or []
        for language, text in texts.items():
            if not text:
                continue
            for channel in channels:
                own = (cleaned.get(f"variant_{language}__{channel.platform}") or "").strip()
                used = counting.count_for_platform(own or text, channel.platform)
                limit = counting.LIMITS[channel.platform]
                if used > limit:
                    self.add_error(
                        f"variant_{language}__{channel.platform}" if own else f"variant_{language}",
                        _("Too long for %(platform)s: %(used)s of %(limit)s characters.")
                        % {
                            "platform": channel.get_platform_display(),
                            "used": used,
                            "limit": limit,
                        },
                    )
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

    def content(self, new_assets: list | None = None) -> PublicationContent:
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

    def __init__(self, *args, publication: Publication, **kwargs) -> None:
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
        self.fields["local_time"].help_text = _("Local time in %(zone)s.") % {"zone": self.zone_name}

    def clean(self) -> dict:
        cleaned = super().clean()
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

    def __init__(self, *args, publication: Publication, to_other_posts: bool, **kwargs) -> None:
        kwargs.setdefault(
            "initial",
            {"local_date": publication.local_date + timedelta(days=7), "local_time": publication.local_time},
        )
        super().__init__(*args, **kwargs)
        self.zone_name = publication.timezone
        if to_other_posts:
            # Only what the options write: a select of every post, on every publication page.
            self.fields["posts"].queryset = (
                Post.objects.active().order_by("name").only("pk", "name", "timezone")
            )
        else:
            del self.fields["posts"]

    def clean(self) -> dict:
        cleaned = super().clean()
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


class GuidelineForm(forms.Form):
    enabled = forms.BooleanField(label=_("Enabled"), required=False)
    severity = forms.ChoiceField(label=_("Severity"), choices=guidelines.SEVERITIES)
    post_kinds = forms.MultipleChoiceField(
        label=_("Only for these kinds of post"),
        choices=PostKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every post."),
    )
    platforms = forms.MultipleChoiceField(
        label=_("Only for these platforms"),
        choices=Platform.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every platform."),
    )
    publication_kinds = forms.MultipleChoiceField(
        label=_("Only for these kinds of publication"),
        choices=PublicationKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every kind (with the rule's own exemptions)."),
    )
    explanation_en = forms.CharField(
        label=_("Explanation in English"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    explanation_nl = forms.CharField(
        label=_("Explanation in Dutch"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    explanation_fr = forms.CharField(
        label=_("Explanation in French"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, code: str, **kwargs) -> None:
        self.rule = guidelines.RULES[code]
        self.row = Guideline.objects.filter(code=code).first()
        super().__init__(*args, **kwargs)
        for name, default in self.rule.params.items():
            field_name = f"param_{name}"
            if (code, name) in guidelines.INTEGER_PARAMS:
                self.fields[field_name] = forms.IntegerField(label=name, min_value=0, max_value=24 * 365)
            elif isinstance(default, bool):
                self.fields[field_name] = forms.BooleanField(label=name, required=False)
            else:
                self.fields[field_name] = forms.CharField(label=name, required=False, max_length=2000)
            self.fields[field_name].label = PARAM_LABELS.get(name, name)
        configured = next(c for c in guidelines.configured_rules() if c.code == code)
        if not self.is_bound:
            self.initial.update(
                {
                    "enabled": configured.enabled,
                    "severity": configured.severity,
                    "post_kinds": configured.post_kinds,
                    "platforms": configured.platforms,
                    "publication_kinds": configured.publication_kinds,
                    **{
                        f"explanation_{lang}": (self.row.explanations.get(lang, "") if self.row else "")
                        for lang in ("en", "nl", "fr")
                    },
                    **{f"param_{name}": value for name, value in configured.params.items()},
                }
            )

    def save(self, actor: User) -> GuidelineVersion:
        """Store the settings and a new version of the whole set, in one transaction."""
        data = self.cleaned_data
        values = {
            "enabled": data["enabled"],
            "severity": data["severity"],
            "post_kinds": ",".join(data["post_kinds"]),
            "platforms": ",".join(data["platforms"]),
            "publication_kinds": ",".join(data["publication_kinds"]),
            "params": {name: data[f"param_{name}"] for name in self.rule.params},
            "explanations": {
                lang: data[f"explanation_{lang}"]
                for lang in ("en", "nl", "fr")
                if data[f"explanation_{lang}"]
            },
        }
        for _attempt in range(3):
            try:
                with transaction.atomic():
                    Guideline.objects.update_or_create(code=self.rule.code, defaults=values)
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
                    # The unique number makes two simultaneous changes take two numbers.
                    return GuidelineVersion.objects.create(
                        number=guidelines.current_version() + 1,
                        changed_by=actor,
                        change=self.rule.code,
                        snapshot=snapshot,
                    )
            except IntegrityError:
                continue
        raise IntegrityError("Could not number the guidelines version; try again.")


PARAM_LABELS = {
    "hours": _("Hours before the publication time"),
    "advisory_languages": _("Languages of consular advice and crisis advisories"),
    "follow_post_policy": _("Other publications follow the post's language policy"),
    "terms": _("Watch list (comma-separated)"),
}


# --- Partner proposals ------------------------------------------------------------------


def clean_country_codes(value: str) -> list[str]:
    """ "tr, DE" -> ["TR", "DE"]; an unknown code is a form error naming it."""
    from django_countries import countries

    codes = [code.strip().upper() for code in value.replace(";", ",").split(",") if code.strip()]
    unknown = [code for code in codes if code not in dict(countries)]
    if unknown:
        raise forms.ValidationError(
            _("Unknown country code: %(codes)s. Use two-letter codes such as TR, DE."),
            params={"codes": ", ".join(unknown)},
            code="unknown_country",
        )
    return list(dict.fromkeys(codes))


class TargetFieldsMixin:
    """Who a proposal is for: the network, some countries or some posts."""

    def clean_targets(self, cleaned: dict) -> None:
        target = cleaned.get("target")
        if target == ProposalTarget.COUNTRIES:
            raw = cleaned.get("target_countries") or ""
            try:
                cleaned["target_countries"] = clean_country_codes(raw)
            except forms.ValidationError as exc:
                self.add_error("target_countries", exc)
                return
            if not cleaned["target_countries"]:
                self.add_error("target_countries", _("Name at least one country."))
            elif len(",".join(cleaned["target_countries"])) > 500:
                self.add_error("target_countries", _("Too many countries: choose the whole network instead."))
        elif target == ProposalTarget.POSTS:
            if not cleaned.get("target_posts"):
                self.add_error("target_posts", _("Choose at least one post."))
            cleaned["target_countries"] = []
        else:
            cleaned["target_countries"] = []


#: Languages every proposal form offers; two more can be added by code.
PROPOSAL_LANGUAGES = ("nl", "fr", "de", "en")
EXTRA_LANGUAGES = 2


class ProposalForm(TargetFieldsMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(
        label=_("Summary for central communications and the posts"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    target = forms.ChoiceField(
        label=_("For whom?"), choices=ProposalTarget.choices, widget=forms.RadioSelect, initial="network"
    )
    target_countries = forms.CharField(
        label=_("Countries"),
        required=False,
        help_text=_("Two-letter codes separated by commas, e.g. TR, DE."),
    )
    target_posts = forms.ModelMultipleChoiceField(
        label=_("Posts"), queryset=Post.objects.none(), required=False
    )
    window_starts_on = forms.DateField(
        label=_("Suggested from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    window_ends_on = forms.DateField(
        label=_("Suggested until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    campaign = forms.ModelChoiceField(label=_("Campaign"), queryset=Campaign.objects.none(), required=False)
    contact = forms.CharField(
        label=_("Contact"),
        required=False,
        max_length=300,
        help_text=_("Who posts can ask: name, email, phone."),
    )
    image = forms.FileField(
        label=_("Add a photo"),
        required=False,
        help_text=_("JPEG, PNG, WebP or GIF, at most 20 MB and 50 megapixels."),
    )

    def __init__(self, *args, partner=None, proposal=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target_posts"].queryset = Post.objects.active().order_by("name")
        self.fields["campaign"].queryset = Campaign.objects.filter(
            campaigns_open_to(partner), ends_on__gte=timezone.localdate()
        ).order_by("name")
        for language in PROPOSAL_LANGUAGES:
            self.fields[f"text_{language}"] = forms.CharField(
                label=_("Suggested text in %(language)s") % {"language": language_name(language)},
                required=False,
                max_length=63206,
                widget=forms.Textarea(attrs={"rows": 3, "lang": language}),
            )
        for number in range(1, EXTRA_LANGUAGES + 1):
            self.fields[f"extra_language_{number}"] = forms.CharField(
                label=_("Another language (two-letter code)"),
                required=False,
                max_length=2,
                widget=forms.TextInput(attrs={"size": 3}),
            )
            self.fields[f"extra_text_{number}"] = forms.CharField(
                label=_("Suggested text in that language"),
                required=False,
                max_length=63206,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
        for language in ("en", "nl", "fr"):
            self.fields[f"alt_{language}"] = forms.CharField(
                label=_("Photo description (alt text) in %(language)s")
                % {"language": language_name(language)},
                required=False,
                max_length=1000,
            )
        if proposal is not None and not self.is_bound:
            self.initial.update(
                {
                    "title": proposal.title,
                    "summary": proposal.summary,
                    "target": proposal.target,
                    "target_countries": ", ".join(proposal.target_country_list),
                    "target_posts": list(proposal.target_posts.all()),
                    "window_starts_on": proposal.window_starts_on,
                    "window_ends_on": proposal.window_ends_on,
                    "campaign": proposal.campaign_id,
                    "contact": proposal.contact,
                }
            )
            extra = 0
            for variant in proposal.variants.all():
                if variant.language in PROPOSAL_LANGUAGES:
                    self.initial[f"text_{variant.language}"] = variant.text
                elif extra < EXTRA_LANGUAGES:
                    extra += 1
                    self.initial[f"extra_language_{extra}"] = variant.language
                    self.initial[f"extra_text_{extra}"] = variant.text

    def text_fields(self) -> list:
        return [self[f"text_{language}"] for language in PROPOSAL_LANGUAGES]

    def extra_fields(self) -> list[tuple]:
        return [(self[f"extra_language_{n}"], self[f"extra_text_{n}"]) for n in range(1, EXTRA_LANGUAGES + 1)]

    def alt_fields(self) -> list:
        return [self[f"alt_{language}"] for language in ("en", "nl", "fr")]

    def clean(self) -> dict:
        cleaned = super().clean()
        self.clean_targets(cleaned)
        start, end = cleaned.get("window_starts_on"), cleaned.get("window_ends_on")
        if start and end and end < start:
            self.add_error("window_ends_on", _("The window ends before it starts."))
        texts = {lang: (cleaned.get(f"text_{lang}") or "").strip() for lang in PROPOSAL_LANGUAGES}
        for number in range(1, EXTRA_LANGUAGES + 1):
            code = (cleaned.get(f"extra_language_{number}") or "").strip().lower()
            text = (cleaned.get(f"extra_text_{number}") or "").strip()
            if not code and not text:
                continue
            if len(code) != 2 or not code.isalpha():
                self.add_error(
                    f"extra_language_{number}", _("Give the language as a two-letter code, e.g. tr.")
                )
                continue
            if code in texts and texts[code]:
                self.add_error(f"extra_language_{number}", _("This language already has a text."))
                continue
            texts[code] = text
        cleaned["texts"] = {lang: text for lang, text in texts.items() if text}
        upload = cleaned.get("image")
        if upload:
            try:
                cleaned["clean_image"] = images.clean_image(upload)
            except images.ImageRefused as exc:
                self.add_error("image", str(exc))
        cleaned["alt_texts"] = {
            lang: (cleaned.get(f"alt_{lang}") or "").strip()
            for lang in ("en", "nl", "fr")
            if (cleaned.get(f"alt_{lang}") or "").strip()
        }
        return cleaned


def campaigns_open_to(partner) -> Q:
    """Central's campaigns, and the partner's own."""
    return Q(partner__isnull=True) | Q(partner=partner) if partner else Q(partner__isnull=True)


class AcceptProposalForm(TargetFieldsMixin, forms.Form):
    """Central accepts, optionally narrowing the targets and attaching a campaign."""

    target = forms.ChoiceField(
        label=_("Offer it to"), choices=ProposalTarget.choices, widget=forms.RadioSelect
    )
    target_countries = forms.CharField(
        label=_("Countries"),
        required=False,
        help_text=_("Two-letter codes separated by commas, e.g. TR, DE."),
    )
    target_posts = forms.ModelMultipleChoiceField(
        label=_("Posts"), queryset=Post.objects.none(), required=False
    )
    campaign = forms.ModelChoiceField(label=_("Campaign"), queryset=Campaign.objects.none(), required=False)

    def __init__(self, *args, proposal, **kwargs) -> None:
        kwargs.setdefault(
            "initial",
            {
                "target": proposal.target,
                "target_countries": ", ".join(proposal.target_country_list),
                "target_posts": list(proposal.target_posts.all()),
                "campaign": proposal.campaign_id,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["target_posts"].queryset = Post.objects.active().order_by("name")
        self.fields["campaign"].queryset = Campaign.objects.filter(
            ends_on__gte=timezone.localdate()
        ).order_by("name")

    def clean(self) -> dict:
        cleaned = super().clean()
        self.clean_targets(cleaned)
        return cleaned


# --- Crisis mode ------------------------------------------------------------------------


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
    target_countries = forms.CharField(
        label=_("Countries"),
        required=False,
        help_text=_("Two-letter codes separated by commas, e.g. TR, DE."),
    )
    target_posts = forms.ModelMultipleChoiceField(
        label=_("Posts"), queryset=Post.objects.none(), required=False
    )

    def __init__(self, *args, central: bool, managed_posts=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if central:
            self.fields["target_posts"].queryset = Post.objects.filter(active=True).order_by("name")
        else:
            # A post manager's crisis is for their own post(s), named one by one.
            del self.fields["target"]
            del self.fields["target_countries"]
            self.fields["target_posts"].queryset = Post.objects.filter(
                pk__in=[post.pk for post in managed_posts or []]
            ).order_by("name")
            self.fields["target_posts"].required = True
            if len(managed_posts or []) == 1:
                self.fields["target_posts"].initial = [managed_posts[0].pk]

    def clean(self) -> dict:
        cleaned = super().clean()
        if "target" in self.fields:
            self.clean_targets(cleaned)
        else:
            cleaned["target"] = ProposalTarget.POSTS
            cleaned["target_countries"] = []
        return cleaned


class AdvisoryForm(forms.Form):
    """One advisory, Dutch and French required; English, German and host languages optional."""

    title = forms.CharField(label=_("Internal title"), max_length=200)
    text_nl = forms.CharField(label=_("Dutch"), widget=forms.Textarea(attrs={"rows": 4, "lang": "nl"}))
    text_fr = forms.CharField(label=_("French"), widget=forms.Textarea(attrs={"rows": 4, "lang": "fr"}))
    platforms = forms.MultipleChoiceField(
        label=_("Platforms"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The advisory goes to every channel of the affected posts on these platforms."),
    )

    def __init__(self, *args, platforms: list[str], extra_languages: list[str], template=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.extra_languages = [
            code for code in dict.fromkeys(["en", "de", *extra_languages]) if code not in ("nl", "fr")
        ]
        for code in self.extra_languages:
            self.fields[f"text_{code}"] = forms.CharField(
                label=_("%(language)s (optional)") % {"language": language_name(code)},
                required=False,
                widget=forms.Textarea(attrs={"rows": 4, "lang": code}),
            )
        choices = [(value, label) for value, label in Platform.choices if value in platforms]
        self.fields["platforms"].choices = choices
        self.fields["platforms"].initial = [value for value, _label in choices]
        if template is not None and not self.is_bound:
            self.fields["title"].initial = template.name
            for code, text in (template.texts or {}).items():
                if f"text_{code}" in self.fields:
                    self.fields[f"text_{code}"].initial = text

    def language_fields(self) -> list:
        return [self[f"text_{code}"] for code in ("nl", "fr", *self.extra_languages)]

    def content(self) -> AdvisoryContent:
        data = self.cleaned_data
        variants = {code: data.get(f"text_{code}", "") for code in ("nl", "fr", *self.extra_languages)}
        return AdvisoryContent(
            title=data["title"],
            variants={code: text for code, text in variants.items() if text and text.strip()},
            platforms=list(data["platforms"]),
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

    def __init__(self, *args, posts: list[Post], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["post"].queryset = Post.objects.filter(pk__in=[post.pk for post in posts]).order_by(
            "name"
        )


#: Languages a crisis template is written in.
TEMPLATE_LANGUAGES = ("nl", "fr", "en", "de")


class CrisisTemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)

    def __init__(self, *args, template=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.template = template
        for code in TEMPLATE_LANGUAGES:
            self.fields[f"text_{code}"] = forms.CharField(
                label=language_name(code),
                required=code in ("nl", "fr"),
                max_length=5000,
                widget=forms.Textarea(attrs={"rows": 4, "lang": code}),
                initial=(template.texts or {}).get(code, "") if template else "",
            )
        if template is not None:
            self.fields["name"].initial = template.name

    def clean_name(self) -> str:
        from calendar_app.models import CrisisTemplate

        name = self.cleaned_data["name"].strip()
        others = CrisisTemplate.objects.filter(name__iexact=name)
        if self.template is not None:
            others = others.exclude(pk=self.template.pk)
        if others.exists():
            raise forms.ValidationError(_("A template with this name exists already."))
        return name

    def save(self, user: User):
        from calendar_app.models import CrisisTemplate

        template = self.template or CrisisTemplate()
        template.name = self.cleaned_data["name"]
        template.texts = {
            code: self.cleaned_data[f"text_{code}"].strip()
            for code in TEMPLATE_LANGUAGES
            if self.cleaned_data.get(f"text_{code}", "").strip()
        }
        template.updated_by = user
        template.save()
        return template
