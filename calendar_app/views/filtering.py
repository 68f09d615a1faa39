"""The filters of a page as the request gives them, or as the user left them last time.

A page opened without any filter parameter (the menu's link, a bookmark of the bare page) shows
the user's saved filters; a page with filters saves them; "Clear all" (`clear=1`) forgets them.
"""

from __future__ import annotations

from typing import TypeVar

from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from django.utils.translation import ngettext

from calendar_app.filters import (
    FilterBar,
    chips_of,
    chosen_filters,
    drop_unknown_values,
    filter_names,
    names_a_filter,
)
from calendar_app.models import FilteredPage, Publication, SavedFilter
from diplomacy import freshness
from diplomacy.filters import QuickFilterSet
from diplomacy.http import AuthenticatedHttpRequest
from diplomacy.models import User

F = TypeVar("F", bound=QuickFilterSet)

#: Parameters that are neither filters nor kept by "Clear all".
NOT_KEPT = ("page", "clear", "format")


def filterset_for(
    request: AuthenticatedHttpRequest,
    page: FilteredPage,
    filterset_class: type[F],
    queryset: QuerySet[Publication],
) -> F:
    """The page's filterset, its `bar` (chips, "Clear all", notes) attached.

    With the saved filters applied, `request.GET` holds them, so that every link the page makes
    (other views, next month, export, feed) carries them as if they had been in the URL."""
    names = filter_names(filterset_class)
    bar = FilterBar()
    filterset = None
    if "clear" in request.GET:
        if saved_filters(request.user, page):
            forget_filters(request.user, page)
        # Done: the page's own links (next month, other views) must not clear again.
        _show(request, _without(request.GET, ["clear"]))
    elif not names_a_filter(request.GET, names):
        saved = {name: values for name, values in saved_filters(request.user, page).items() if name in names}
        if saved:
            _show(request, _with(request.GET, saved))
            filterset = filterset_class(request.GET, queryset=queryset)
            if not filterset.is_valid():
                # A post or campaign deleted since, a choice gone: left out, and said so.
                kept, dropped = drop_unknown_values(filterset.form, saved)
                remember_filters(request.user, page, kept, saved=saved)
                _show(request, _with(_without(request.GET, names), kept))
                filterset = filterset_class(request.GET, queryset=queryset)
                bar.notes = {name: [dropped_note(len(values))] for name, values in dropped.items()}
            bar.from_saved = names_a_filter(request.GET, names)
    if filterset is None:
        filterset = filterset_class(request.GET, queryset=queryset)
        if filterset.is_valid() and names_a_filter(request.GET, names):
            remember_filters(request.user, page, chosen_filters(request.GET, names))
    bar.chips = chips_of(filterset, request.GET, request.path)
    kept_params = _without(request.GET, [*names, *NOT_KEPT])
    kept_params._mutable = True
    kept_params["clear"] = "1"
    bar.clear_url = f"{request.path}?{kept_params.urlencode()}"
    filterset.bar = bar  # type: ignore[attr-defined]
    return filterset


def dropped_note(count: int) -> str:
    """What the control says of the values its saved filter lost (by number: a deleted post's
    name is gone with it, and a code means nothing to the reader)."""
    return ngettext(
        "One choice of your saved filters here no longer exists: it was left out.",
        "%(count)s choices of your saved filters here no longer exist: they were left out.",
        count,
    ) % {"count": count}


def saved_filters(user: User, page: FilteredPage) -> dict[str, list[str]]:
    """The user's last filters on the page ({} when none); no query while no one saved any since."""

    def read() -> dict[str, list[str]]:
        stored = SavedFilter.objects.filter(user=user, page=page).values_list("query", flat=True).first()
        return _as_lists(stored)

    shape = (user.pk, str(page))
    return freshness.remembered("saved-filters", reads=[SavedFilter], shape=shape, compute=read)


def _as_lists(stored: object) -> dict[str, list[str]]:
    """{name: [value, ...]} of what the column holds, whatever an admin or an old version put there."""
    if not isinstance(stored, dict):
        return {}
    lists = {}
    for name, values in stored.items():
        items = [values] if isinstance(values, str | int) else values if isinstance(values, list) else []
        kept = [str(item) for item in items if isinstance(item, str | int) and str(item).strip()]
        if kept:
            lists[str(name)] = kept
    return lists


def remember_filters(
    user: User, page: FilteredPage, chosen: dict[str, list[str]], *, saved: dict[str, list[str]] | None = None
) -> None:
    """Save `chosen` as the user's last filters on the page, when they differ from `saved` (read when
    not given): browsing from month to month with the same filters writes nothing."""
    if saved is None:
        saved = saved_filters(user, page)
    if chosen == saved:
        return
    if not chosen:
        forget_filters(user, page)
        return
    SavedFilter.objects.update_or_create(user=user, page=page, defaults={"query": chosen})


def forget_filters(user: User, page: FilteredPage) -> None:
    SavedFilter.objects.filter(user=user, page=page).delete()


def _show(request: HttpRequest, query: QueryDict) -> None:
    """Make `query` the request's: what the page shows and every link it makes follow it."""
    query._mutable = False
    # The stubs type GET as a QueryDict that came from the request itself.
    request.GET = query  # type: ignore[assignment]


def _with(query: QueryDict, values: dict[str, list[str]]) -> QueryDict:
    more = query.copy()
    for name, items in values.items():
        more.setlist(name, items)
    more._mutable = False
    return more


def _without(query: QueryDict, names: list[str]) -> QueryDict:
    rest = query.copy()
    for name in names:
        rest.pop(name, None)
    rest._mutable = False
    return rest
