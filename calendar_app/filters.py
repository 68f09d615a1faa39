"""Filters of the calendar and the approval queue (django-filter); kept in the URL so views can be
shared, and remembered per user (SavedFilter) so that a page opened bare shows them again.

Each choice list says what "nothing chosen" means ("All posts", "Any status"); posts, countries,
campaigns and partners are pickers (several at once, found by typing their name), countries
and languages named in the user's language.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import django_filters
from django import forms
from django.db.models import QuerySet
from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django_filters.fields import ChoiceField

from calendar_app.forms.widgets import PickerSelectMultiple, country_name_choices
from calendar_app.models import (
    NETWORK_LANGUAGES,
    Campaign,
    Publication,
    PublicationKind,
    PublicationQuerySet,
    PublicationStatus,
    Variant,
    language_name,
)
from diplomacy import freshness, geography
from diplomacy.filters import QuickFilterSet
from diplomacy.models import Partner, Platform, Post, split_languages


def _posts_geography() -> tuple[list[str], list[str]]:
    """(countries with a post, languages of the posts), in one query, kept while posts are unchanged:
    the filter form asks for both on every page of the calendar and the queue."""

    def compute() -> tuple[list[str], list[str]]:
        rows = Post.objects.values_list("country", "host_languages", "publishing_languages").distinct()
        present: set[str] = set()
        languages: set[str] = set()
        for country, host, publishing in rows:
            present.add(str(country))
            languages.update(split_languages(host), split_languages(publishing))
        return sorted(present), sorted(languages)

    return freshness.remembered("posts-geography", reads=[Post], shape=None, compute=compute)


def country_choices(present: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """The countries the network has a post in, named and sorted in the user's language."""
    return country_name_choices(set(_posts_geography()[0] if present is None else present))


def _sort_key(name: str) -> str:
    # "Égypte" between "Danemark" and "France", not after "Zimbabwe".
    return "".join(c for c in unicodedata.normalize("NFKD", name.casefold()) if not unicodedata.combining(c))


def language_choices(spoken: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """The content languages: the network's (nl, fr, de, en) and every post's host and publishing
    languages, named in the user's language ("Turkish", "Turks", "turc")."""
    codes = set(NETWORK_LANGUAGES) | set(_posts_geography()[1] if spoken is None else spoken)
    # Django's names start in lower or upper case by language ("néerlandais", "Turc"): one way in a list.
    named = [(code, _capitalised(language_name(code))) for code in codes]
    return sorted(named, key=lambda choice: _sort_key(choice[1]))


def _capitalised(name: str) -> str:
    return name[:1].upper() + name[1:]


class LanguageField(ChoiceField):
    """A language code, whatever its case: "FR" is French, as links made before this list had it."""

    def to_python(self, value: Any) -> str:
        return str(super().to_python(value)).strip().lower()


class LanguageFilter(django_filters.ChoiceFilter):
    field_class = LanguageField


def _picker(placeholder: Any) -> PickerSelectMultiple:
    return PickerSelectMultiple(placeholder=placeholder)


class PublicationFilter(QuickFilterSet):
    post = django_filters.ModelMultipleChoiceFilter(
        label=_("Posts"),
        queryset=Post.objects.order_by("name").only("pk", "code", "name"),
        to_field_name="code",
        method="filter_posts",
        widget=_picker(_("All posts")),
    )
    country = django_filters.MultipleChoiceFilter(
        label=_("Countries"),
        choices=country_choices,
        method="filter_countries",
        widget=_picker(_("All countries")),
    )
    region = django_filters.ChoiceFilter(
        label=_("Region of the world"),
        choices=geography.REGIONS,
        method="filter_region",
        empty_label=_("All regions"),
    )
    platform = django_filters.ChoiceFilter(
        label=_("Platform"),
        choices=Platform.choices,
        method="filter_platform",
        empty_label=_("All platforms"),
    )
    language = LanguageFilter(
        label=_("Language"),
        choices=language_choices,
        method="filter_language",
        empty_label=_("Any language"),
    )
    campaign = django_filters.ModelMultipleChoiceFilter(
        label=_("Campaigns"),
        queryset=Campaign.objects.order_by("name").only("pk", "name"),
        method="filter_campaigns",
        widget=_picker(_("All campaigns")),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=PublicationStatus.choices, empty_label=_("Any status")
    )
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=PublicationKind.choices, empty_label=_("Any kind")
    )
    partner = django_filters.ModelMultipleChoiceFilter(
        label=_("From partners"),
        queryset=Partner.objects.order_by("name").only("pk", "code", "name"),
        to_field_name="code",
        method="filter_partners",
        widget=_picker(_("Any or no partner")),
    )

    choices_read_from = (Post, Campaign, Partner)

    class Meta:
        model = Publication
        fields = [
            "post",
            "country",
            "region",
            "platform",
            "language",
            "campaign",
            "status",
            "kind",
            "partner",
        ]

    @property
    def form(self) -> forms.Form:
        if not hasattr(self, "_form"):
            # Both lists from one read of the posts, in the user's language.
            present, spoken = _posts_geography()
            if "country" in self.filters:
                self.filters["country"].extra["choices"] = country_choices(present)
            if "language" in self.filters:
                self.filters["language"].extra["choices"] = language_choices(spoken)
        return super().form

    @property
    def publications(self) -> PublicationQuerySet:
        """`qs` as what it is: the filters narrow a PublicationQuerySet (the one given, or
        the model's default), but django-filter types `qs` as a plain QuerySet."""
        return cast(PublicationQuerySet, self.qs)

    # Each list filter is one IN (...): no join that would repeat a publication, no DISTINCT.
    def filter_posts(self, queryset: QuerySet, name: str, value: list[Post]) -> QuerySet:
        return queryset.filter(post__in=value) if value else queryset

    def filter_countries(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        return queryset.filter(post__country__in=value) if value else queryset

    def filter_campaigns(self, queryset: QuerySet, name: str, value: list[Campaign]) -> QuerySet:
        return queryset.filter(campaign__in=value) if value else queryset

    def filter_partners(self, queryset: QuerySet, name: str, value: list[Partner]) -> QuerySet:
        return queryset.filter(proposal__partner__in=value) if value else queryset

    def filter_region(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(post__country__in=geography.countries_in(value))

    def filter_platform(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # A subquery, not a join: a publication on two channels of the platform stays one row.
        channels = Publication.channels.through.objects.filter(channel__platform=value)
        return queryset.filter(pk__in=channels.values("publication_id"))

    def filter_language(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(pk__in=Variant.objects.filter(language=value).values("publication_id"))

    @property
    def fields_html(self) -> SafeString:
        """The form's fields (calendar_app/_filter_fields.html), with the notes of its `bar` (what was
        dropped from a saved filter) under their control; kept in the cache like `cached_form`
        while there are none."""
        form = self.form
        bar = getattr(self, "bar", None)
        notes: dict[str, list[str]] = bar.notes if bar is not None else {}

        def build() -> SafeString:
            for name in notes:
                # Read with the control: Django adds its own describedby only when none is set.
                form.fields[name].widget.attrs["aria-describedby"] = f"id_{name}_note"
            fields = [(form[name], notes.get(name, [])) for name in form.fields]
            return render_to_string("calendar_app/_filter_fields.html", {"fields": fields})

        if notes or not form.is_bound or not form.is_valid():
            return build()
        data = form.data.lists() if hasattr(form.data, "lists") else form.data.items()
        return freshness.fragment(
            f"filter-fields-{type(self).__name__}",
            reads=self.choices_read_from,
            shape=sorted(data),
            build=build,
        )


# --- Which filters are chosen, and what a saved set still means ------------------------------


def filter_names(filterset_class: type[django_filters.FilterSet]) -> list[str]:
    """The URL parameters that are filters of this class (a subclass may drop some of its parent's)."""
    return list(filterset_class(data=None, queryset=Publication.objects.none()).filters)


def chosen_filters(query: QueryDict, names: Iterable[str]) -> dict[str, list[str]]:
    """{name: [non-empty values]} of the filters set in `query`, in the filters' order."""
    chosen = {}
    for name in names:
        values = [value.strip() for value in query.getlist(name) if value.strip()]
        if values:
            chosen[name] = values
    return chosen


def names_a_filter(query: QueryDict, names: Iterable[str]) -> bool:
    """Whether the query says anything about the filters, an empty choice included ("post="): a
    page opened bare gets the saved filters, one whose filters were all taken off does not."""
    return any(name in query for name in names)


def drop_unknown_values(
    form: forms.Form, saved: Mapping[str, list[str]]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """`saved` without the values `form` (a filter form bound to them) refused: a post or campaign
    deleted since, a choice gone. Returns ({name: values kept}, {name: values dropped})."""
    kept = {
        name: [str(v) for v in values] for name, values in saved.items() if name in form.fields and values
    }
    dropped: dict[str, list[str]] = {}
    for name in list(form.errors):
        if name not in kept:
            continue
        field_ = form.fields[name]
        # Value by value: of three saved posts, the two that still exist stay.
        good = []
        for value in kept[name]:
            try:
                several = isinstance(field_, forms.MultipleChoiceField | forms.ModelMultipleChoiceField)
                field_.clean([value] if several else value)
            except forms.ValidationError:
                dropped.setdefault(name, []).append(value)
            else:
                good.append(value)
        if good:
            kept[name] = good
        else:
            del kept[name]
    return kept, dropped


@dataclass
class Chip:
    """One active filter value, shown as a link that takes it off."""

    label: str
    value: str
    remove_url: str


@dataclass
class FilterBar:
    """What the filter bar shows above the form: the active filters and the ways to drop them."""

    chips: list[Chip] = field(default_factory=list)
    clear_url: str = ""
    #: The filters came from the user's saved ones (the page was opened without any).
    from_saved: bool = False
    #: Per filter, what was dropped from the saved ones because it no longer exists.
    notes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.chips)


def chips_of(filterset: QuickFilterSet, query: QueryDict, path: str) -> list[Chip]:
    """A chip per chosen value of the valid filters, each linking to the page without it.

    A filter whose last value is taken off stays in the link, empty ("post="): the page must
    not bring the saved filters back when someone has just removed them."""
    form = filterset.form
    form.is_valid()  # cleaned, whatever the caller asked before
    cleaned = getattr(form, "cleaned_data", {})
    chips = []
    base = query.copy()
    base.pop("page", None)
    base.pop("clear", None)
    for name in filterset.filters:
        if name not in cleaned or name in form.errors:
            continue
        labels = _value_labels(form.fields[name], cleaned[name])
        for value, label in labels:
            rest = base.copy()
            rest.setlist(name, [v for v in query.getlist(name) if _other_value(v, value)] or [""])
            chips.append(
                Chip(label=str(form.fields[name].label), value=label, remove_url=f"{path}?{rest.urlencode()}")
            )
    return chips


def _other_value(given: str, value: str) -> bool:
    """Whether a URL value is another value than the one a chip takes off."""
    return given.strip().casefold() != value.casefold()


def _value_labels(field_: forms.Field, cleaned: Any) -> list[tuple[str, str]]:
    """(URL value, name shown) of a field's cleaned value(s)."""
    if cleaned in (None, "", [], ()):
        return []
    if isinstance(field_, forms.ModelMultipleChoiceField | forms.ModelChoiceField):
        key = field_.to_field_name or "pk"
        items = cleaned if isinstance(cleaned, list | tuple | QuerySet) else [cleaned]
        return [(str(getattr(item, key)), str(getattr(item, "name", item))) for item in items]
    choices = cast(Iterable[tuple[Any, Any]], cast(forms.ChoiceField, field_).choices)
    names = {str(value): str(label) for value, label in choices}
    items = cleaned if isinstance(cleaned, list | tuple) else [cleaned]
    return [(str(item), names.get(str(item), str(item))) for item in items]
