"""Who is who in the network, and who may see and edit the network registry.

Every view of the `diplomacy` app and every permission of `calendar_app`
(calendar_app/permissions.py) builds on these functions; nothing else reads
Memberships to decide a right. Predicates are pure `(user, obj) -> bool`.

A user's memberships are loaded once per request (one query) and kept on the
user object, so that a page asking ten questions costs one query.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser

from diplomacy.models import POST_ROLES, Channel, Membership, Partner, Post, Role, User

AnyUser = User | AnonymousUser

_CACHE_ATTR = "_diplomacy_memberships"


def memberships(user: AnyUser) -> list[Membership]:
    """The user's memberships (with post and partner), loaded once per user object."""
    if not user.is_authenticated or not user.is_active:
        return []
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = list(Membership.objects.filter(user=user).select_related("post", "partner"))
        setattr(user, _CACHE_ATTR, cached)
    return cached


def load_memberships(users: Iterable[AnyUser | None]) -> None:
    """Load the memberships of many users at once (one query) into the same per-object
    cache `memberships` fills: a history naming twenty actors asks one query, not twenty."""
    pending = [
        u for u in users if u is not None and u.is_authenticated and getattr(u, _CACHE_ATTR, None) is None
    ]
    if not pending:
        return
    by_user: dict[int, list[Membership]] = {u.pk: [] for u in pending}
    for membership in Membership.objects.filter(user_id__in=by_user).select_related("post", "partner"):
        by_user[membership.user_id].append(membership)
    for u in pending:
        setattr(u, _CACHE_ATTR, by_user[u.pk] if u.is_active else [])


def rights_of(user: AnyUser) -> tuple[tuple[str, int, int], ...]:
    """The user's roles as a plain value (role, post id, partner id): what a cached page or
    feed built for them depends on, besides the data."""
    return tuple(sorted((m.role, m.post_id or 0, m.partner_id or 0) for m in memberships(user)))


def forget_memberships(user: AnyUser) -> None:
    """Drop the per-object cache after memberships changed."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def roles_of(user: AnyUser) -> set[str]:
    return {m.role for m in memberships(user)}


def is_central(user: AnyUser) -> bool:
    return Role.CENTRAL_REVIEWER in roles_of(user)


def is_post_staff(user: AnyUser) -> bool:
    return bool(roles_of(user) & set(POST_ROLES))


def is_partner_contributor(user: AnyUser) -> bool:
    return Role.PARTNER_CONTRIBUTOR in roles_of(user)


def is_internal(user: AnyUser) -> bool:
    """Ministry staff: central comms or anybody working for a post."""
    return is_central(user) or is_post_staff(user)


def post_ids(user: AnyUser, roles: tuple[str, ...] = POST_ROLES) -> set[int]:
    """Ids of the posts where the user holds one of `roles`."""
    return {m.post_id for m in memberships(user) if m.role in roles and m.post_id}


def posts_of(user: AnyUser) -> list[Post]:
    """The posts the user works for, in a stable order, without a query of its own."""
    seen: dict[int, Post] = {}
    for m in memberships(user):
        if m.role in POST_ROLES and m.post is not None:
            seen.setdefault(m.post.pk, m.post)
    return sorted(seen.values(), key=lambda post: post.name)


def managed_post_ids(user: AnyUser) -> set[int]:
    return post_ids(user, roles=(Role.POST_MANAGER,))


def partner_ids(user: AnyUser) -> set[int]:
    # A partner contributor's membership always names a partner (membership_scope_matches_role):
    # `is not None` here and below only says so to the type checker.
    return {
        m.partner_id
        for m in memberships(user)
        if m.role == Role.PARTNER_CONTRIBUTOR and m.partner_id is not None
    }


def partners_of(user: AnyUser) -> list[Partner]:
    return [
        m.partner for m in memberships(user) if m.role == Role.PARTNER_CONTRIBUTOR and m.partner is not None
    ]


def works_for_post(user: AnyUser, post: Post) -> bool:
    return post.pk in post_ids(user)


# --- The network registry -------------------------------------------------


def can_view_network(user: AnyUser) -> bool:
    """Internal staff see the registry of posts and channels; partners do not."""
    return is_internal(user)


def can_view_post(user: AnyUser, post: Post) -> bool:
    return can_view_network(user)


def can_create_post(user: AnyUser) -> bool:
    return is_central(user)


def can_edit_post(user: AnyUser, post: Post) -> bool:
    return is_central(user)


def can_manage_channels(user: AnyUser, post: Post) -> bool:
    """Central comms, and the post's own managers, keep a post's channels up to date."""
    return is_central(user) or post.pk in managed_post_ids(user)


def can_edit_channel(user: AnyUser, channel: Channel) -> bool:
    return can_manage_channels(user, channel.post)


def can_import_network(user: AnyUser) -> bool:
    return is_central(user)


def can_edit_platform_defaults(user: AnyUser) -> bool:
    """The plan new channels of each platform start with is a network-wide setting."""
    return is_central(user)


def can_invite(user: AnyUser) -> bool:
    return is_central(user)


def can_view_staff(user: AnyUser, post: Post) -> bool:
    """Names and emails of a post's staff: central and the post's own staff."""
    return is_central(user) or works_for_post(user, post)


def requires_mfa(user: AnyUser) -> bool:
    """Central reviewers approve what the network publishes: they must use MFA."""
    return is_central(user)


# --- For templates ---------------------------------------------------------


def allowed_actions(user: AnyUser, obj: Post | Channel | None = None) -> set[str]:
    """The action names `user` may take on `obj` (or on the network when None).

    Templates draw one button per action and never re-derive a rule.
    """
    if isinstance(obj, Post):
        actions = {
            "view": can_view_post(user, obj),
            "edit": can_edit_post(user, obj),
            "add_channel": can_manage_channels(user, obj),
            "view_staff": can_view_staff(user, obj),
        }
    elif isinstance(obj, Channel):
        actions = {"edit": can_edit_channel(user, obj)}
    else:
        actions = {
            "view_network": can_view_network(user),
            "create_post": can_create_post(user),
            "import": can_import_network(user),
            "invite": can_invite(user),
            "platform_defaults": can_edit_platform_defaults(user),
        }
    return {name for name, allowed in actions.items() if allowed}


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str


def navigation(user: AnyUser) -> list[NavItem]:
    """The top navigation for `user`: each role sees only its pages."""
    from django.utils.translation import gettext as _

    if not user.is_authenticated:
        return []
    items = [NavItem("home", _("Home"))]
    if is_internal(user):
        items.append(NavItem("calendar", _("Calendar")))
        items.append(NavItem("publish_now", _("Publish now")))
        items.append(NavItem("crisis_list", _("Crisis")))
    if is_central(user):
        items.append(NavItem("approvals", _("Approvals")))
    if is_internal(user) or is_partner_contributor(user):
        items.append(NavItem("proposal_list", _("Proposals")))
    if can_view_network(user):
        items.append(NavItem("network", _("Network")))
    if can_invite(user):
        items.append(NavItem("invitation_list", _("Invitations")))
    if can_import_network(user):
        items.append(NavItem("network_import", _("Import")))
    items.append(NavItem("guidelines", _("Guidelines")))
    return items
