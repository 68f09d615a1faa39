"""Filters of the calendar (django-filter); kept in the URL so views can be shared."""

from typing import cast

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from calendar_app.models import (
    Campaign,
    Publication,
    PublicationKind,
    PublicationQuerySet,
    PublicationStatus,
    Variant,
)
from diplomacy import geography
from diplomacy.filters import QuickFilterSet
from diplomacy.models import Partner, Platform, Post


def country_choices() -> list[tuple[str, str]]:
    present = set(Post.objects.values_list("country", flat=True).distinct())
    return [(code, name) for code, name in countries if code in present]


class PublicationFilter(QuickFilterSet):
    post = django_filters.ModelChoiceFilter(
        label=_("Post"),
        queryset=Post.objects.order_by("name").only("pk", "code", "name"),
        to_field_name="code",
    )
    country = django_filters.ChoiceFilter(
        label=_("Country"), choices=country_choices, field_name="post__country"
    )
    region = django_filters.ChoiceFilter(
        label=_("Region of the world"), choices=geography.REGIONS, method="filter_region"
    )
    platform = django_filters.ChoiceFilter(
        label=_("Platform"), choices=Platform.choices, method="filter_platform"
    )
    language = django_filters.CharFilter(
        label=_("Language"), method="filter_language", max_length=2, help_text=_("Two-letter code, e.g. tr.")
    )
    campaign = django_filters.ModelChoiceFilter(
        label=_("Campaign"), queryset=Campaign.objects.order_by("name").only("pk", "name")
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=PublicationStatus.choices)
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=PublicationKind.choices)
    partner = django_filters.ModelChoiceFilter(
        label=_("From partner"),
        queryset=Partner.objects.order_by("name").only("pk", "code", "name"),
        field_name="proposal__partner",
        to_field_name="code",
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
    def publications(self) -> PublicationQuerySet:
        """`qs` as what it is: the filters narrow a PublicationQuerySet (the one given, or
        the model's default), but django-filter types `qs` as a plain QuerySet."""
        return cast(PublicationQuerySet, self.qs)

    def filter_region(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(post__country__in=geography.countries_in(value))

    def filter_platform(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # A subquery, not a join: a publication on two channels of the platform stays one row.
        channels = Publication.channels.through.objects.filter(channel__platform=value)
        return queryset.filter(pk__in=channels.values("publication_id"))

    def filter_language(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip().lower()
        if len(value) != 2 or not value.isalpha():
            return queryset.none()
        return queryset.filter(pk__in=Variant.objects.filter(language=value).values("publication_id"))
