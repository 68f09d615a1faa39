from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from calendar_app import notifications
from calendar_app.models import Crisis
from diplomacy import freshness, roles
from diplomacy.models import Membership, Post


def unread_notifications(request: HttpRequest) -> dict:
    """The bell's number, for base.html (one query per page for logged-in users)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": notifications.unread_count(user)}


#: What decides whose banner shows which crisis: the crises, their posts, the viewer's posts.
BANNER_READS = (Crisis, Crisis.posts.through, Membership, Post)


def active_crises_for(user) -> list[dict]:
    """The active crises `user` is affected by, as {"pk", "title"}: central sees all; post
    staff those of their posts. Asked on every page, so remembered while none of that changed."""
    if not user.is_authenticated or not roles.is_internal(user):
        return []
    return freshness.remembered(
        "crisis-banner", reads=BANNER_READS, shape=roles.rights_of(user), compute=lambda: _crises_of(user)
    )


def _crises_of(user) -> list[dict]:
    return [{"pk": crisis.pk, "title": crisis.title} for crisis in _affecting(user)]


def _affecting(user) -> list[Crisis]:
    active = list(Crisis.objects.active().prefetch_related("posts"))
    if not active or roles.is_central(user):
        return active
    posts = roles.posts_of(user)
    return [
        crisis
        for crisis in active
        if any(crisis.takes_in(post, {p.pk for p in crisis.posts.all()}) for post in posts)
    ]


def crisis_banner(request: HttpRequest) -> dict:
    """Active crises for the banner on every page (queried only when a page shows it)."""
    user = getattr(request, "user", None)
    if user is None:
        return {}
    return {"active_crises": SimpleLazyObject(lambda: active_crises_for(user))}
