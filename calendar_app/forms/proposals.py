"""Partner proposals: the partner's form and central's acceptance; who a proposal is for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from django import forms
from django.db.models import Q
from django.forms import BoundField
from django.forms.utils import ErrorDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from calendar_app import counting, images
from calendar_app.forms.widgets import CountryMultipleChoiceField, posts_picker
from calendar_app.models import Asset, Campaign, Proposal, ProposalTarget, language_name
from calendar_app.workflow import ProposalContent
from diplomacy.models import Partner, Platform, Post

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def clean_country_codes(value: str) -> list[str]:
    """ "tr, DE" -> ["TR", "DE"]; an unknown code is a form error naming it."""
    codes = [code.strip().upper() for code in value.replace(";", ",").split(",") if code.strip()]
    unknown = [code for code in codes if code not in dict(countries)]
    if unknown:
        raise forms.ValidationError(
            _("Unknown country code: %(codes)s. Use two-letter codes such as TR, DE."),
            params={"codes": ", ".join(unknown)},
            code="unknown_country",
        )
    return list(dict.fromkeys(codes))


class _FormWithErrors(Protocol):
    """What TargetFieldsMixin needs of the form it is mixed into."""

    @property
    def errors(self) -> ErrorDict: ...

    def add_error(self, field: str | None, error: forms.ValidationError | StrOrPromise) -> None: ...


#: The target fields each target needs; the others are ignored, their values and errors dropped.
TARGET_FIELDS = {
    ProposalTarget.NETWORK: (),
    ProposalTarget.COUNTRIES: ("target_countries",),
    ProposalTarget.POSTS: ("target_posts",),
}


class TargetFieldsMixin:
    """Who a proposal is for: the network, some countries or some posts."""

    def clean_targets(self: _FormWithErrors, cleaned: dict[str, Any]) -> None:
        target = cleaned.get("target")
        if target not in TARGET_FIELDS:
            return  # refused by its field, which said why
        # A field the chosen target does not need is hidden (with JavaScript) or says it does
        # not count (without): whatever it holds, even a post gone from the network, is ignored.
        for name in ("target_countries", "target_posts"):
            if name not in TARGET_FIELDS[ProposalTarget(target)]:
                self.errors.pop(name, None)
                cleaned[name] = []
        if target == ProposalTarget.COUNTRIES:
            if "target_countries" not in cleaned:
                return  # refused by its field, which said why
            if not cleaned["target_countries"]:
                self.add_error("target_countries", _("Name at least one country."))
            elif len(",".join(cleaned["target_countries"])) > 500:
                self.add_error("target_countries", _("Too many countries: choose the whole network instead."))
        elif target == ProposalTarget.POSTS:
            if "target_posts" not in cleaned:
                return  # refused by its field, which said why
            if not cleaned["target_posts"]:
                self.add_error("target_posts", _("Choose at least one post."))


#: Languages every proposal form offers; two more can be added by code.
PROPOSAL_LANGUAGES = ("nl", "fr", "de", "en")
EXTRA_LANGUAGES = 2


#: The platforms a suggested text is measured against in its preview, the tightest first.
PREVIEW_PLATFORMS = ("x", "bluesky", "mastodon", "instagram")


@dataclass
class TextPreview:
    """A suggested text as the posts will read it, with its length on the tight platforms."""

    language: str
    language_name: str
    text: str
    counts: list[counting.Count]

    @property
    def too_long_for(self) -> list[str]:
        return [Platform(count.platform).label for count in self.counts if not count.ok]

    @property
    def count_labels(self) -> list[tuple[str, counting.Count]]:
        return [(Platform(count.platform).label, count) for count in self.counts]


def text_previews(texts: Mapping[str, str]) -> list[TextPreview]:
    """{language: text} -> a preview of each text that is not empty, in the order given."""
    return [
        TextPreview(
            language=language,
            language_name=language_name(language),
            text=text.strip(),
            counts=counting.counts(text.strip(), PREVIEW_PLATFORMS),
        )
        for language, text in texts.items()
        if text.strip()
    ]


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
    # Without JavaScript every target field shows, each saying when it counts; the page's
    # script (static/js/proposal_form.js) shows only the one the chosen target needs.
    target_countries = CountryMultipleChoiceField(
        label=_("Countries"),
        required=False,
        help_text=_("Only for “Some countries”: type a country’s name."),
    )
    target_posts = forms.ModelMultipleChoiceField(
        label=_("Posts"),
        queryset=Post.objects.none(),
        required=False,
        widget=posts_picker(),
        help_text=_("Only for “Some posts”: type a post’s name or city."),
        error_messages={
            "invalid_choice": _("A chosen post is not in the network any more: choose the posts again."),
            "invalid_pk_value": _("A chosen post is not in the network any more: choose the posts again."),
        },
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

    def __init__(
        self,
        *args: Any,
        partner: Partner | None = None,
        proposal: Proposal | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(
            "forms.ModelMultipleChoiceField[Post]", self.fields["target_posts"]
        ).queryset = Post.objects.active().order_by("name")
        cast("forms.ModelChoiceField[Campaign]", self.fields["campaign"]).queryset = Campaign.objects.filter(
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
                    "target_countries": proposal.target_country_list,
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

    def text_fields(self) -> list[BoundField]:
        return [self[f"text_{language}"] for language in PROPOSAL_LANGUAGES]

    def extra_fields(self) -> list[tuple[BoundField, BoundField]]:
        return [(self[f"extra_language_{n}"], self[f"extra_text_{n}"]) for n in range(1, EXTRA_LANGUAGES + 1)]

    def previews(self) -> list[TextPreview]:
        """The suggested texts as typed (valid or not: a preview is asked for while writing)."""
        texts: dict[str, str] = {}
        source = self.data if self.is_bound else self.initial
        for language in PROPOSAL_LANGUAGES:
            texts[language] = str(source.get(f"text_{language}") or "")
        for number in range(1, EXTRA_LANGUAGES + 1):
            code = str(source.get(f"extra_language_{number}") or "").strip().lower()
            if len(code) == 2 and code.isalpha() and not texts.get(code, "").strip():
                texts[code] = str(source.get(f"extra_text_{number}") or "")
        return text_previews(texts)

    def has_extra_languages(self) -> bool:
        """A language beyond the four is given, or refused: its fold opens."""
        names = [f"extra_{kind}_{n}" for kind in ("language", "text") for n in range(1, EXTRA_LANGUAGES + 1)]
        source = self.data if self.is_bound else self.initial
        return any(str(source.get(name) or "").strip() for name in names) or any(
            name in self.errors for name in names
        )

    def alt_fields(self) -> list[BoundField]:
        return [self[f"alt_{language}"] for language in ("en", "nl", "fr")]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
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
            if not text:
                self.add_error(
                    f"extra_text_{number}", _("Write the text in this language, or clear the language.")
                )
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

    def content(self, new_assets: list[Asset] | None = None) -> ProposalContent:
        """The cleaned proposal, for workflow.save_proposal."""
        data = self.cleaned_data
        return ProposalContent(
            title=data["title"],
            summary=data["summary"],
            target=data["target"],
            target_countries=list(data["target_countries"]),
            target_posts=list(data["target_posts"]),
            window_starts_on=data["window_starts_on"],
            window_ends_on=data["window_ends_on"],
            campaign=data["campaign"],
            contact=data["contact"],
            texts=dict(data["texts"]),
            new_assets=new_assets or [],
        )


def campaigns_open_to(partner: Partner | None) -> Q:
    """Central's campaigns, and the partner's own."""
    return Q(partner__isnull=True) | Q(partner=partner) if partner else Q(partner__isnull=True)


class AcceptProposalForm(TargetFieldsMixin, forms.Form):
    """Central accepts, optionally narrowing the targets and attaching a campaign."""

    target = forms.ChoiceField(
        label=_("Offer it to"), choices=ProposalTarget.choices, widget=forms.RadioSelect
    )
    target_countries = CountryMultipleChoiceField(label=_("Countries"), required=False)
    target_posts = forms.ModelMultipleChoiceField(
        label=_("Posts"), queryset=Post.objects.none(), required=False, widget=posts_picker()
    )
    campaign = forms.ModelChoiceField(label=_("Campaign"), queryset=Campaign.objects.none(), required=False)

    def __init__(self, *args: Any, proposal: Proposal, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "target": proposal.target,
                "target_countries": proposal.target_country_list,
                "target_posts": list(proposal.target_posts.all()),
                "campaign": proposal.campaign_id,
            },
        )
        super().__init__(*args, **kwargs)
        cast(
            "forms.ModelMultipleChoiceField[Post]", self.fields["target_posts"]
        ).queryset = Post.objects.active().order_by("name")
        cast("forms.ModelChoiceField[Campaign]", self.fields["campaign"]).queryset = Campaign.objects.filter(
            ends_on__gte=timezone.localdate()
        ).order_by("name")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        self.clean_targets(cleaned)
        return cleaned
