"""Pages of the network registry, invitations, home and language choice.

Each view opens with a helper that loads the object and checks the user's
right to it through diplomacy.roles; the rules live there, not here.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from diplomacy import importing, invitations, roles
from diplomacy.filters import PostFilter
from diplomacy.forms import (
    AcceptInvitationForm,
    ChannelForm,
    InvitationForm,
    NetworkImportForm,
    PlatformDefaultsForm,
    PostForm,
)
from diplomacy.http import AuthenticatedHttpRequest
from diplomacy.models import Channel, Invitation, Membership, Platform, Post

NETWORK_PAGE_SIZE = 200


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _get_post_for_user(request: AuthenticatedHttpRequest, code: str, *, edit: bool = False) -> Post:
    """Load a post by code; 403 unless the user may see (or edit) it."""
    _require(roles.can_view_network(request.user))
    post = get_object_or_404(Post, code=code)
    if edit:
        _require(roles.can_edit_post(request.user, post))
    return post


def _get_channel_for_user(request: AuthenticatedHttpRequest, channel_id: int) -> Channel:
    """Load a channel; 403 unless the user may manage its post's channels."""
    _require(roles.can_view_network(request.user))
    channel = get_object_or_404(Channel.objects.select_related("post"), pk=channel_id)
    _require(roles.can_edit_channel(request.user, channel))
    return channel


@login_required
def network(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require(roles.can_view_network(request.user))
    base = Post.objects.annotate(
        channel_count=Count("channels", filter=Q(channels__active=True), distinct=True)
    ).prefetch_related(
        Prefetch("channels", queryset=Channel.objects.filter(active=True).order_by("platform"))
    )
    filterset = PostFilter(request.GET or None, queryset=base)
    status = 200
    posts: QuerySet[Post]
    if filterset.is_bound and not filterset.is_valid():
        status = 400
        posts = Post.objects.none()
    else:
        posts = filterset.qs
    posts = posts.order_by("country", "city", "name")
    total = posts.count()
    platform_counts = dict(
        Channel.objects.filter(active=True, post__in=posts.values("pk"))
        .values_list("platform")
        .annotate(n=Count("post", distinct=True))
        .values_list("platform", "n")
    )
    context = {
        "filter": filterset,
        "posts": posts[:NETWORK_PAGE_SIZE],
        "total": total,
        "truncated": total > NETWORK_PAGE_SIZE,
        "page_size": NETWORK_PAGE_SIZE,
        "platform_counts": [(label, platform_counts.get(value, 0)) for value, label in Platform.choices],
        "network_actions": roles.allowed_actions(request.user),
    }
    return render(request, "diplomacy/network.html", context, status=status)


@login_required
def post_detail(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    post = _get_post_for_user(request, code)
    actions = roles.allowed_actions(request.user, post)
    staff: list[Membership] | QuerySet[Membership] = []
    if "view_staff" in actions:
        staff = Membership.objects.filter(post=post).select_related("user").order_by("role", "user__email")
    context = {
        "post": post,
        "channels": post.channels.all().order_by("platform", "handle"),
        "staff": staff,
        "actions": actions,
        "local_now": post.local_now(),
    }
    return render(request, "diplomacy/post_detail.html", context)


@login_required
def post_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require(roles.can_create_post(request.user))
    form = PostForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        post = form.save()
        messages.success(request, _("Post “%(name)s” created.") % {"name": post.name})
        return redirect(post)
    status = 400 if request.method == "POST" else 200
    return render(request, "diplomacy/post_form.html", {"form": form, "post": None}, status=status)


@login_required
def post_edit(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    post = _get_post_for_user(request, code, edit=True)
    form = PostForm(request.POST or None, instance=post)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Post “%(name)s” saved.") % {"name": post.name})
        return redirect(post)
    status = 400 if request.method == "POST" else 200
    return render(request, "diplomacy/post_form.html", {"form": form, "post": post}, status=status)


@login_required
def channel_create(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    post = _get_post_for_user(request, code)
    _require(roles.can_manage_channels(request.user, post))
    form = ChannelForm(request.POST or None, post=post)
    if request.method == "POST" and form.is_valid():
        channel = form.save()
        messages.success(request, _("Channel %(channel)s added.") % {"channel": channel})
        return redirect(post)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "diplomacy/channel_form.html", {"form": form, "post": post, "channel": None}, status=status
    )


@login_required
def channel_edit(request: AuthenticatedHttpRequest, channel_id: int) -> HttpResponse:
    channel = _get_channel_for_user(request, channel_id)
    form = ChannelForm(request.POST or None, instance=channel, post=channel.post)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Channel %(channel)s saved.") % {"channel": channel})
        return redirect(channel.post)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "diplomacy/channel_form.html",
        {"form": form, "post": channel.post, "channel": channel},
        status=status,
    )


@login_required
def network_import(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require(roles.can_import_network(request.user))
    form = NetworkImportForm(request.POST or None, request.FILES or None)
    report = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            dry_run = "check" in request.POST
            report = importing.import_network_file(form.cleaned_data["file"].read(), dry_run=dry_run)
            if report.ok and not dry_run:
                messages.success(
                    request,
                    _("Imported %(kind)s: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.")
                    % {
                        "kind": report.kind,
                        "created": report.created,
                        "updated": report.updated,
                        "unchanged": report.unchanged,
                    },
                )
                return redirect("network")
            if not report.ok:
                status = 400
        else:
            status = 400
    return render(request, "diplomacy/import.html", {"form": form, "report": report}, status=status)


@login_required
def platform_defaults(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Central's language plan per platform, where new channels start."""
    _require(roles.can_edit_platform_defaults(request.user))
    form = PlatformDefaultsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        changed = form.save()
        if changed:
            messages.success(
                request,
                _("Saved for %(platforms)s. Existing channels keep their own plan.")
                % {"platforms": ", ".join(changed)},
            )
        else:
            messages.info(request, _("Nothing changed."))
        return redirect("platform_defaults")
    status = 400 if request.method == "POST" else 200
    return render(request, "diplomacy/platform_defaults.html", {"form": form}, status=status)


@login_required
def invitation_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require(roles.can_invite(request.user))
    form = InvitationForm(request.POST or None, initial={"language": request.LANGUAGE_CODE})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        invitations.create_invitation(
            request.user,
            email=data["email"],
            full_name=data["full_name"],
            role=data["role"],
            post=data["post"],
            partner=data["partner"],
            language=data["language"],
            base_url=request.build_absolute_uri("/"),
        )
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": data["email"]})
        return redirect("invitation_list")
    status = 400 if request.method == "POST" else 200
    recent = Invitation.objects.select_related("post", "partner", "invited_by")[:100]
    return render(
        request,
        "diplomacy/invitations.html",
        {"form": form, "invitations": recent, "INVITATION_VALID_DAYS": settings.INVITATION_VALID_DAYS},
        status=status,
    )


@login_required
@require_POST
def invitation_revoke(request: AuthenticatedHttpRequest, invitation_id: int) -> HttpResponse:
    _require(roles.can_invite(request.user))
    invitation = get_object_or_404(Invitation, pk=invitation_id)
    if invitations.revoke_invitation(request.user, invitation):
        messages.success(request, _("Invitation to %(email)s withdrawn.") % {"email": invitation.email})
    else:
        messages.error(request, _("This invitation was no longer open."))
    return redirect("invitation_list")


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: set a password (new account) or accept the role (existing one)."""
    try:
        invitation = invitations.find_invitation(token)
    except invitations.InvitationUnusable as exc:
        return render(request, "diplomacy/invitation_unusable.html", {"reason": str(exc)}, status=410)
    account = invitations.existing_account(invitation)
    form = None
    if account is None:
        form = AcceptInvitationForm(
            request.POST or None, email=invitation.email, initial={"full_name": invitation.full_name}
        )
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            user = invitations.accept_invitation(
                token,
                password=form.cleaned_data["password1"] if form else None,
                full_name=form.cleaned_data["full_name"] if form else "",
            )
        except invitations.InvitationUnusable as exc:
            return render(request, "diplomacy/invitation_unusable.html", {"reason": str(exc)}, status=410)
        if account is None:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome! Your account is ready."))
            return redirect("home")
        messages.success(request, _("The new role was added to your account. Log in to use it."))
        return redirect("account_login")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "diplomacy/invitation_accept.html",
        {"invitation": invitation, "form": form, "account": account},
        status=status,
    )


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, remembered on the user's account too."""
    language = request.POST.get("language", "")
    if not check_for_language(language):
        messages.error(request, _("Unknown language."))
        next_url = request.POST.get("next", "/")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = "/"
        return HttpResponseRedirect(next_url)
    if request.user.is_authenticated and request.user.language != language:
        request.user.language = language
        request.user.save(update_fields=["language"])
    return django_set_language(request)


def health(request: HttpRequest) -> HttpResponse:
    """For a load balancer: the app answers and reaches its database."""
    Post.objects.exists()
    return HttpResponse("ok", content_type="text/plain")
