"""Filters of the network registry (django-filter)."""

import django_filters
from django import forms
from django.db.models import Model, Q
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from django_filters.widgets import BooleanWidget

from diplomacy import freshness
from diplomacy.models import Platform, Post, PostKind, PostQuerySet, split_languages
from diplomacy.widgets import use_quick_selects


class TranslatedBooleanWidget(BooleanWidget):
    """django-filter's yes/no select, its labels in the reader's language: django-filter builds
    them with `gettext` when the widget is made (at import, in English), so they never changed
    with the language. "Any" rather than its "Unknown": the choice means "no filter"."""

    def __init__(self, attrs: dict[str, str] | None = None) -> None:
        super().__init__(attrs)
        self.choices = [("", _("Any")), ("true", _("Yes")), ("false", _("No"))]


def country_choices() -> list[tuple[str, str]]:
    present = set(Post.objects.values_list("country", flat=True).distinct())
    return [(code, name) for code, name in countries if code in present]


def post_language_choices() -> list[tuple[str, str]]:
    """The languages the posts speak or publish in, named in the user's language."""
    codes: set[str] = set()
    for host, publishing in Post.objects.values_list("host_languages", "publishing_languages").distinct():
        codes.update(split_languages(host), split_languages(publishing))
    named = []
    for code in codes:
        try:
            name = str(get_language_info(code)["name_translated"])
        except KeyError:
            name = code
        named.append((code, name[:1].upper() + name[1:]))
    return sorted(named, key=lambda choice: choice[1].casefold())


class QuickFilterSet(django_filters.FilterSet):
    """A FilterSet whose selects render fast (diplomacy.widgets), and whose rendered fields are
    kept in the cache while the tables its choices come from are unchanged (`cached_form`)."""

    #: The models its choices are read from.
    choices_read_from: tuple[type[Model], ...] = ()

    @property
    def form(self) -> forms.Form:
        # django-filter builds the form once and keeps it: swap its selects that first time only.
        first_time = not hasattr(self, "_form")
        form = super().form
        if first_time:
            use_quick_selects(form)
        return form

    @property
    def cached_form(self) -> SafeString:
        """The form's fields as partials/_form.html writes them (a select of every post is
        most of a filter form's cost)."""
        form = self.form

        def build() -> SafeString:
            return render_to_string("partials/_form.html", {"form": form})

        if not form.is_bound or not form.is_valid():
            return build()
        data = form.data.lists() if hasattr(form.data, "lists") else form.data.items()
        return freshness.fragment(
            f"filters-{type(self).__name__}", reads=self.choices_read_from, shape=sorted(data), build=build
        )


class PostFilter(QuickFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_search")
    country = django_filters.ChoiceFilter(
        label=_("Country"), choices=country_choices, empty_label=_("All countries")
    )
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=PostKind.choices, empty_label=_("Any kind"))
    platform = django_filters.ChoiceFilter(
        label=_("Has a channel on"),
        choices=Platform.choices,
        method="filter_platform",
        empty_label=_("Any platform"),
    )
    no_channel = django_filters.BooleanFilter(
        label=_("Has no channel"),
        method="filter_no_channel",
        widget=TranslatedBooleanWidget(),
    )
    language = django_filters.ChoiceFilter(
        label=_("Language"),
        choices=post_language_choices,
        method="filter_language",
        empty_label=_("Any language"),
    )

    choices_read_from = (Post,)

    class Meta:
        model = Post
        fields = ["q", "country", "kind", "platform", "no_channel", "language"]

    def filter_search(self, queryset: PostQuerySet, name: str, value: str) -> PostQuerySet:
        return queryset.filter(Q(name__icontains=value) | Q(city__icontains=value) | Q(code__icontains=value))

    def filter_platform(self, queryset: PostQuerySet, name: str, value: str) -> PostQuerySet:
        return queryset.filter(channels__platform=value, channels__active=True).distinct()

    def filter_no_channel(self, queryset: PostQuerySet, name: str, value: bool | None) -> PostQuerySet:
        if value is None:
            return queryset
        active_channels = Q(channels__active=True)
        if value:
            return queryset.exclude(active_channels & Q(channels__isnull=False))
        return queryset.filter(active_channels).distinct()

    def filter_language(self, queryset: PostQuerySet, name: str, value: str) -> PostQuerySet:
        value = value.strip().lower()
        if not value.isalpha() or len(value) != 2:
            return queryset.none()
        return queryset.speaking(value)
