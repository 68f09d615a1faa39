"""The publication editor: plan, edit, reschedule, duplicate; images served safely."""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from typing import cast
from urllib.parse import urlsplit, urlunsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST, require_safe

from calendar_app import guidelines, permissions, sending, translation, workflow
from calendar_app import images as images_module
from calendar_app import revisions as revisions_module
from calendar_app.forms import DuplicateForm, PublicationForm, RescheduleForm, language_name
from calendar_app.models import Asset, Campaign, Publication, PublicationStatus, Variant, language_names
from calendar_app.revisions import FieldDiff
from calendar_app.views import translation as translation_views
from diplomacy import freshness, roles
from diplomacy.formats import format_when
from diplomacy.http import AuthenticatedHttpRequest
from diplomacy.models import Channel, LanguagePlan, Platform, Post, User

logger = logging.getLogger(__name__)


def safe_next(request: HttpRequest, default: str) -> str:
    """The `next` address of a form when it stays on this site, else `default`."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def _get_publication_for_user(request: AuthenticatedHttpRequest, pk: int) -> Publication:
    """Load a publication; 404 when the user may not know it exists."""
    if not roles.is_internal(request.user):
        raise PermissionDenied
    publication = get_object_or_404(
        Publication.objects.select_related("post", "campaign", "author").prefetch_related(
            "channels", "variants", "assets"
        ),
        pk=pk,
    )
    # Another post's draft is not even acknowledged to exist.
    if not permissions.can_view_publication(request.user, publication):
        raise Http404
    return publication


#: The files stored by _store_asset inside uploads_removed_on_failure(), to remove if it fails.
_stored_files: ContextVar[list[tuple[Storage, str]] | None] = ContextVar("stored_files", default=None)


@contextmanager
def uploads_removed_on_failure() -> Iterator[None]:
    """Files stored inside the block are removed again when it fails: the database rows of a
    refused save roll back, and its upload must not stay on disk, unreferenced, either.
    Wrap the `transaction.atomic()` block with it (outside, so a failed commit counts too)."""
    stored: list[tuple[Storage, str]] = []
    token = _stored_files.set(stored)
    try:
        yield
    except BaseException:
        for storage, name in stored:
            try:
                storage.delete(name)
            except OSError:  # the save's own error is the one to report
                logger.exception("Could not remove %s after a failed save", name)
        raise
    finally:
        _stored_files.reset(token)


def _note_stored(storage: Storage, name: str | None) -> None:
    stored = _stored_files.get()
    if stored is not None and name:
        stored.append((storage, name))


def _store_asset(
    owner: User, post: Post | None, clean: images_module.CleanImage, alt_texts: dict[str, str]
) -> Asset:
    """Save a cleaned image and its platform renditions under random names (removed again if
    the save fails inside uploads_removed_on_failure())."""
    asset = Asset(
        owner=owner,
        post=post,
        content_type=clean.content_type,
        checksum=clean.checksum,
        width=clean.width,
        height=clean.height,
        alt_texts=alt_texts,
    )
    asset.image.save(f"upload.{clean.extension}", ContentFile(clean.content), save=False)
    _note_stored(asset.image.storage, asset.image.name)
    renditions = {}
    for name in images_module.RENDITIONS:
        rendition = images_module.make_rendition(clean, name)
        stored = asset.image.storage.save(
            f"assets/{secrets.token_hex(16)}-{name}.{rendition.extension}", ContentFile(rendition.content)
        )
        _note_stored(asset.image.storage, stored)
        renditions[name] = stored
    asset.renditions = renditions
    asset.save()
    return asset


def _choose_post(request: AuthenticatedHttpRequest) -> Post | None:
    allowed = permissions.posts_for_new_publication(request.user)
    code = request.GET.get("post") or request.POST.get("post")
    if code:
        post = get_object_or_404(Post, code=code)
        if not permissions.can_create_publication(request.user, post):
            raise PermissionDenied
        return post
    if allowed is not None and len(allowed) == 1:
        return allowed[0]
    return None


@login_required
def publication_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not permissions.can_plan_publications(request.user):
        raise PermissionDenied
    post = _choose_post(request)
    if post is None:
        allowed = permissions.posts_for_new_publication(request.user)
        posts = allowed if allowed is not None else Post.objects.active().order_by("name")
        return render(request, "calendar_app/choose_post.html", {"posts": posts})
    drafting = translation_views.wants_editor_action(request)
    if drafting:
        # "Draft the French from the Dutch" or "I have checked it": shown again, not saved.
        form = translation_views.editor_action(request, PublicationForm(post=post))
    else:
        form = PublicationForm(
            request.POST or None, request.FILES or None, post=post, initial=_initial(request)
        )
    if request.method == "POST" and not drafting and form.is_valid():
        try:
            with uploads_removed_on_failure(), transaction.atomic():
                assets = _new_assets(request, form, post)
                publication = workflow.create_publication(request.user, post, form.content(assets))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if wants_review(request):
                return _saved(
                    request, _submit_after_save(request, publication), draft_key(request.user, post=post)
                )
            messages.success(request, _("Publication saved as a draft."))
            return _saved(request, redirect(publication), draft_key(request.user, post=post))
    status = 400 if request.method == "POST" and not drafting else 200
    context = _editor_context(form, post, None, draft_key=draft_key(request.user, post=post))
    day = _initial(request).get("local_date", "")
    if not form.is_bound and not drafting and (not day or _is_iso_date(day)):
        # An empty editor is the same for everyone planning for this post on this day: its
        # fields (every channel with its plan, language and campaign) come from the cache
        # while the post, its channels and campaigns are unchanged.
        fields = dict(context)
        context["editor_fields"] = freshness.fragment(
            "editor_new",
            reads=NEW_EDITOR_READS,
            shape=(post.pk, day, timezone.localdate().isoformat(), translation.enabled()),
            build=lambda: render_to_string("calendar_app/_editor_fields.html", fields),
        )
    return render(request, "calendar_app/publication_form.html", context, status=status)


def _is_iso_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _initial(request: HttpRequest) -> dict[str, str]:
    initial = {}
    if request.GET.get("date"):
        initial["local_date"] = request.GET["date"]
    return initial


def _new_assets(request: AuthenticatedHttpRequest, form: PublicationForm, post: Post) -> list[Asset]:
    """Store an uploaded image with its descriptions."""
    clean = form.cleaned_data.get("clean_image")
    if clean is None:
        return []
    return [_store_asset(request.user, post, clean, form.cleaned_data.get("alt_texts", {}))]


def _editor_context(
    form: PublicationForm, post: Post, publication: Publication | None, **extra: object
) -> dict[str, object]:
    return {
        "form": form,
        "post": post,
        "publication": publication,
        "platform_names_json": json.dumps({value: str(label) for value, label in Platform.choices}),
        **extra,
    }


@login_required
@require_safe
def publication_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    publication = _get_publication_for_user(request, pk)
    actions = permissions.allowed_actions(request.user, publication)
    sends = publication_shown(publication)
    # The review thread, decisions, revisions and history are between the post and central.
    history = (
        list(publication.events.select_related("actor").order_by("created_at", "pk"))
        if "comment" in actions
        else []
    )
    context: dict[str, object] = {
        "publication": publication,
        "actions": actions,
        "side_actions": bool(actions & SIDE_ACTIONS),
        # Own id prefixes: two forms on one page must not share field ids.
        "reschedule_form": RescheduleForm(publication=publication, auto_id="reschedule_%s")
        if "reschedule" in actions
        else None,
        "duplicate_form": DuplicateForm(
            publication=publication, to_other_posts="duplicate_to_posts" in actions, auto_id="duplicate_%s"
        )
        if "duplicate" in actions
        else None,
        "sends": sends,
        # Each channel in a fold of its own, drawn by the shared partial as a list of one.
        "sends_each": [(sent, [sent]) for sent in sends],
        "history": history,
        "history_folded": len(history) > HISTORY_SHOWN_UNFOLDED,
        **(_review_context(publication) if "comment" in actions else {"deliveries": []}),
        "workflow_buttons": _workflow_buttons(actions),
        "missed_reason": _missed_reason(publication),
        "user_is_central": roles.is_central(request.user),
        "language_names": {v.language: language_name(v.language) for v in publication.variants.all()},
    }
    return render(request, "calendar_app/publication_detail.html", context)


@login_required
def publication_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The editor for a saved publication, on a page of its own."""
    publication = _get_publication_for_user(request, pk)
    if "edit" not in permissions.allowed_actions(request.user, publication):
        raise PermissionDenied
    stale: Publication | None = None
    drafting = translation_views.wants_editor_action(request)
    if drafting:
        # "Draft the French from the Dutch" or "I have checked it": shown again, not saved.
        form = translation_views.editor_action(
            request, PublicationForm(post=publication.post, publication=publication)
        )
    else:
        form = PublicationForm(
            request.POST or None, request.FILES or None, post=publication.post, publication=publication
        )
    if request.method == "POST" and not drafting and form.is_valid():
        status_before = publication.status
        try:
            with uploads_removed_on_failure(), transaction.atomic():
                assets = _new_assets(request, form, publication.post)
                content = form.content(assets)
                if not assets:
                    # Without a new image, the descriptions typed are for the image shown.
                    content.shown_alt_texts = form.cleaned_data.get("alt_texts", {})
                publication = workflow.update_publication(
                    request.user,
                    publication,
                    content,
                    expected_revision=form.cleaned_data["revision"],
                )
        except workflow.StaleEdit as exc:
            # update_publication reports the publication as it is now.
            stale = cast(Publication, exc.current)
            messages.error(
                request,
                _(
                    "Someone else saved this publication while you were editing it. Nothing of yours "
                    "was saved: compare with their version below, then make your change again."
                ),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            back_in_review = status_before == PublicationStatus.APPROVED
            if back_in_review and publication.status == PublicationStatus.IN_REVIEW:
                messages.warning(
                    request, _("Saved. The approval covered the earlier version: it is back in review.")
                )
            elif wants_review(request):
                return _saved(
                    request, _submit_after_save(request, publication), draft_key(request.user, publication)
                )
            else:
                messages.success(request, _("Publication saved."))
            return _saved(request, redirect(publication), draft_key(request.user, publication))
    status = 409 if stale else (400 if request.method == "POST" and not drafting else 200)
    actions = permissions.allowed_actions(request.user, publication)
    context = _editor_context(
        form,
        publication.post,
        publication,
        draft_key=draft_key(request.user, publication),
        # "Save and send to review" where the publication may be sent (or sent again).
        may_submit=bool(actions & {"submit", "resubmit"}),
        stale=stale,
        stale_variants=list(stale.variants.all()) if stale else [],
    )
    if not form.is_bound and not drafting:
        # The editor's fields (every channel, language and image of the post) come from the
        # cache while the publication and its post are unchanged.
        editor = dict(context)
        context["editor_fields"] = freshness.fragment(
            "editor",
            reads=EDITOR_READS,
            # The campaigns offered are those that ended less than 90 days ago.
            # Whether translation help is on: its buttons are in the fields.
            shape=(publication.pk, timezone.localdate().isoformat(), translation.enabled()),
            build=lambda: render_to_string("calendar_app/_editor_fields.html", editor),
        )
    return render(request, "calendar_app/publication_edit.html", context, status=status)


#: The cookie that tells the pages' script (static/js/saved_drafts.js, loaded on every page)
#: which copies kept in the browser by the editor (static/js/drafts.js) were saved and may be
#: forgotten: a short list of the editors' keys (see `draft_key`), separated by "|".
SAVED_COOKIE = "editor_saved"
#: How many saved keys the cookie holds: the script empties it on the next page, so more than a
#: few only pile up without JavaScript (where there is no copy to forget either).
SAVED_KEYS_KEPT = 10
_SAVED_KEY_RE = re.compile(r"^\d+:[\w-]+$")


def draft_key(user: User, publication: Publication | None = None, post: Post | None = None) -> str:
    """The key of the editor's copy in the browser (the form's data-draft-key): the user's own,
    so that on a shared computer nobody is offered someone else's text. "<user pk>:<publication
    pk>" for a saved publication, "<user pk>:new-<post code>" for a new one."""
    if publication is not None:
        return f"{user.pk}:{publication.pk}"
    assert post is not None
    return f"{user.pk}:new-{post.code}"


def wants_review(request: HttpRequest) -> bool:
    """The editor's "Submit for review" button: save, then send to review."""
    return request.POST.get("then") == "review"


def _saved(request: HttpRequest, response: HttpResponse, key: str) -> HttpResponse:
    """`response` to a successful save, telling the pages' script which copy it may forget
    (`key` is the form's data-draft-key), added to those saved before and not forgotten
    yet (several saves can come before a page that runs the script). Read by a script, so not
    HttpOnly; it holds nothing secret."""
    earlier = [
        earlier_key
        for earlier_key in request.COOKIES.get(SAVED_COOKIE, "").split("|")
        if _SAVED_KEY_RE.match(earlier_key) and earlier_key != key
    ]
    keys = [*earlier, key][-SAVED_KEYS_KEPT:]
    response.set_cookie(
        SAVED_COOKIE,
        "|".join(keys),
        max_age=24 * 3600,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=False,
    )
    return response


def _submit_after_save(request: AuthenticatedHttpRequest, publication: Publication) -> HttpResponse:
    """ "Save and submit for review": the publication is saved; it then goes through the
    workflow's own submit (or resubmit), which asks the permissions and runs the guidelines.
    Refused, it stays saved and the page says why; nothing typed is lost."""
    actions = permissions.allowed_actions(request.user, publication)
    action = "submit" if "submit" in actions else "resubmit" if "resubmit" in actions else ""
    if not action:
        messages.warning(request, _("Saved. It cannot be sent to review from its current status."))
        return redirect(publication)
    # Whole sentences, one a case, so that each language words and orders them as it needs.
    draft = publication.status == PublicationStatus.DRAFT
    try:
        if action == "submit":
            workflow.submit(request.user, publication)
        else:
            workflow.resubmit(request.user, publication)
    except workflow.GuidelinesFailed as exc:
        problems = [problem for result in exc.results for problem in result.problems]
        first = (
            _("Saved as a draft, but not sent to review: fix what the guidelines say first.")
            if draft
            else _("Saved, but not sent to review: fix what the guidelines say first.")
        )
        messages.error(request, " ".join([first, *problems]))
        # The editor shows the same failures in its live check, beside the texts to fix.
        return redirect("publication_edit", publication.pk)
    except workflow.StaleEdit:
        messages.error(
            request,
            _("Saved as a draft, but not sent to review: someone else acted on it meanwhile.")
            if draft
            else _("Saved, but not sent to review: someone else acted on it meanwhile."),
        )
        return redirect(publication)
    except workflow.WorkflowError as exc:
        saved = (
            _("Saved as a draft, but not sent to review.") if draft else _("Saved, but not sent to review.")
        )
        messages.error(request, " ".join([saved, str(exc)]))  # its message is a sentence of its own
        return redirect(publication)
    except PermissionDenied:
        messages.error(
            request,
            _("Saved as a draft, but not sent to review: you may not send it.")
            if draft
            else _("Saved, but not sent to review: you may not send it."),
        )
        return redirect(publication)
    messages.success(request, _("Saved and sent to review."))
    return redirect(publication)


def _missed_reason(publication: Publication) -> str:
    """Why a missed publication did not go out, as its history says it ("" otherwise)."""
    if publication.status != PublicationStatus.MISSED:
        return ""
    event = publication.events.filter(verb__in=["missed_late", "missed"]).order_by("-pk").first()
    if event is None:
        return ""
    return event.comment or _("Its time passed while a crisis held it.")


#: What the editor's fields of a publication show.
EDITOR_READS = (Publication, Variant, Channel, Post, Campaign, Asset)
#: What an empty editor shows: the post's channels (with their plans) and policy, and its campaigns.
NEW_EDITOR_READS = (Channel, Post, Campaign)


WORKFLOW_BUTTONS = [
    ("submit", gettext_lazy("Send to review"), False),
    ("resubmit", gettext_lazy("Send to review again"), False),
    ("approve", gettext_lazy("Approve"), False),
    ("withdraw", gettext_lazy("Withdraw to draft"), True),
    ("retry", gettext_lazy("Send it again"), False),
    ("cancel", gettext_lazy("Cancel the publication"), True),
]


#: The actions drawn in the page's side area (the rest belong to a section: comments, deliveries).
SIDE_ACTIONS = frozenset(
    {name for name, _label, _secondary in WORKFLOW_BUTTONS}
    | {"edit", "request_changes", "reschedule", "duplicate"}
)
#: A longer history is folded on the publication page until opened.
HISTORY_SHOWN_UNFOLDED = 6


def _workflow_buttons(actions: set[str]) -> list[dict[str, object]]:
    return [
        {"name": name, "label": label, "secondary": secondary}
        for name, label, secondary in WORKFLOW_BUTTONS
        if name in actions
    ]


def _review_context(publication: Publication) -> dict[str, object]:
    """Revisions, decisions, comments and the change since the approved revision."""
    revisions = list(publication.revisions.select_related("submitted_by").order_by("number"))
    reviews = list(publication.reviews.select_related("reviewer", "revision").order_by("created_at"))
    approved = next((r.revision for r in reversed(reviews) if r.decision == "approve"), None)
    diff: list[FieldDiff] = []
    if approved is not None:
        current = workflow.content_snapshot(publication)
        diff = revisions_module.diff_contents(approved.content, current)
    latest = revisions[-1] if revisions else None
    return {
        "revisions": revisions,
        "reviews": reviews,
        "approved_revision": approved,
        "diff": diff,
        "latest_checks": latest.checks if latest and latest.number == publication.revision else None,
        "comments": publication.comments.select_related("author"),
        "deliveries": publication.deliveries.select_related("channel").prefetch_related("parts"),
    }


@dataclass(frozen=True)
class PartShown:
    """One platform post as a page shows it."""

    part: sending.Part
    #: How many posts the channel sends.
    of: int
    #: "Dutch, French": the languages in the post, in the interface language.
    languages: str
    #: The number of the post it answers (a thread's second post answers the first).
    answers: int | None
    #: (image, description) of the images it carries, when the page shows images.
    images: list[tuple[Asset, str]]

    @property
    def rows(self) -> int:
        """Lines a text box needs to show the whole text (about 30 characters a line on a phone)."""
        lines = sum(1 + len(line) // 30 for line in self.part.text.splitlines() or [""])
        return max(3, min(lines, 16))


@dataclass(frozen=True)
class ChannelShown:
    """What one channel sends, as the live check, the publication page, the approval queue
    and "publish now" show it."""

    channel: Channel
    plan: str
    parts: list[PartShown]
    #: The languages written that this channel does not publish.
    left_out: str
    #: The languages the channel publishes (for "nothing to send").
    publishes: str
    rendition: str

    @property
    def fits(self) -> bool:
        return all(shown.part.fits for shown in self.parts)

    @property
    def thread(self) -> bool:
        return any(shown.answers for shown in self.parts)


def channels_shown(
    channels: list[Channel],
    texts: Mapping[str, str],
    overrides: Mapping[str, Mapping[str, str]] | None = None,
    *,
    images: int = 0,
    assets: list[Asset] | None = None,
) -> list[ChannelShown]:
    """What each channel sends (calendar_app.sending.for_channels), with the names a page
    shows; `assets`, when given, are the images in order, shown on the posts carrying them.
    Each channel must come with its post (guidelines.publication_channels)."""
    return [
        channel_shown(sent.channel, sent.plan, sent.parts, sent.left_out, assets=assets)
        for sent in sending.for_channels(channels, texts, overrides, images=images)
    ]


def channel_shown(
    channel: Channel,
    plan: sending.ChannelPlan,
    parts: list[sending.Part],
    left_out: list[str],
    *,
    assets: list[Asset] | None = None,
) -> ChannelShown:
    """One channel's posts (made by calendar_app.sending) with the names a page shows."""
    return ChannelShown(
        channel=channel,
        plan=str(dict(LanguagePlan.choices).get(plan.plan, plan.plan)),
        parts=[
            PartShown(
                part=part,
                of=len(parts),
                languages=", ".join(language_name(language) for language in part.languages),
                answers=part.number - 1 if plan.plan == LanguagePlan.THREAD and part.number > 1 else None,
                images=[(asset, asset.alt_text(part.language)) for asset in (assets or [])[: part.images]],
            )
            for part in parts
        ],
        left_out=language_names(left_out),
        publishes=language_names(
            list(plan.languages[:1] if plan.plan == LanguagePlan.SINGLE else plan.languages)
        ),
        rendition=images_module.PLATFORM_RENDITION.get(plan.platform, "landscape"),
    )


def publication_shown(publication: Publication, *, image_count: int | None = None) -> list[ChannelShown]:
    """What each channel of a saved publication sends (its current content), from the rows
    loaded with it: prefetched variants and channels ask no further query. With
    `image_count` (a list that counts its images in its own query) the images are counted,
    not shown; without, they are loaded and shown."""
    variants = list(publication.variants.all())
    assets = list(publication.assets.all()) if image_count is None else []
    return channels_shown(
        guidelines.publication_channels(publication),
        {v.language: v.text for v in variants},
        {v.language: dict(v.platform_texts) for v in variants},
        images=len(assets) if image_count is None else image_count,
        assets=assets,
    )


def move_refusal(user: User, publication: Publication) -> str:
    """Why `user` may not move `publication` now ("" when they may): the rule the move itself
    checks (permissions.can_reschedule, or can_reschedule_missed), said as a person reads it."""
    missed = publication.status == PublicationStatus.MISSED
    allowed = (
        permissions.can_reschedule_missed(user, publication)
        if missed
        else permissions.can_reschedule(user, publication)
    )
    if allowed:
        return ""
    if not (roles.is_central(user) or roles.works_for_post(user, publication.post)):
        return _("You may not move publications of another post.")
    return _("This publication can no longer be moved: it is %(status)s.") % {
        "status": publication.get_status_display().lower()
    }


@dataclass
class MoveOutcome:
    """What became of a request to move a publication: an HTTP status and what to say."""

    status: int  # 200 moved, 400 bad date or time, 403 not allowed, 409 changed meanwhile
    message: str
    publication: Publication
    form: RescheduleForm


def move_publication(
    request: AuthenticatedHttpRequest, publication: Publication, *, auto_id: str
) -> MoveOutcome:
    """Move `publication` to the posted post-local date and time through the workflow (the
    drag on the calendar, its "Move" form and the publication page's form all come here)."""
    form = RescheduleForm(request.POST, publication=publication, auto_id=auto_id)
    refusal = move_refusal(request.user, publication)
    if refusal:
        return MoveOutcome(403, refusal, publication, form)
    if not form.is_valid():
        errors = " ".join(str(e) for errors in form.errors.values() for e in errors)
        return MoveOutcome(400, errors, publication, form)
    was_approved = publication.status in (PublicationStatus.APPROVED, PublicationStatus.MISSED)
    # A missed publication takes its own move (back to review, or approved again).
    missed = publication.status == PublicationStatus.MISSED
    reschedule = workflow.reschedule_missed if missed else workflow.reschedule_publication
    try:
        moved = reschedule(
            request.user,
            publication,
            local_date=form.cleaned_data["local_date"],
            local_time=form.cleaned_data["local_time"],
            expected_revision=form.cleaned_data.get("revision") or None,
        )
    except (workflow.StaleEdit, workflow.TransitionNotAllowed):
        message = _("Someone else changed this publication meanwhile. Reload and try again.")
        return MoveOutcome(409, message, publication, form)
    except PermissionDenied:
        # The right was lost between the check above and the workflow's own (a role removed).
        return MoveOutcome(
            403, move_refusal(request.user, publication) or _("You may not move it."), publication, form
        )
    except ValidationError as exc:
        form.add_error("local_time", exc)
        return MoveOutcome(400, " ".join(exc.messages), publication, form)
    message = _("Moved to %(when)s.") % {
        "when": format_when(moved.local_date, moved.local_time, moved.timezone)
    }
    if was_approved and moved.status == PublicationStatus.IN_REVIEW:
        message += " " + _("It goes back to review.")
    return MoveOutcome(200, message, moved, form)


@login_required
@require_POST
def publication_reschedule(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Move to another date (drag and drop on the calendar) or date and time (the form)."""
    publication = _get_publication_for_user(request, pk)
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    outcome = move_publication(request, publication, auto_id="id_%s")
    if wants_json:
        # A refusal says why, with its own status: the page tells it from a network error.
        body: dict[str, object] = {"ok": outcome.status == 200, "message": outcome.message}
        if outcome.status == 200:
            body["status"] = outcome.publication.status
        return JsonResponse(body, status=outcome.status)
    if outcome.status == 403:
        raise PermissionDenied(outcome.message)
    if outcome.status == 200:
        messages.success(request, outcome.message)
        return redirect(safe_next(request, outcome.publication.get_absolute_url()))
    messages.error(request, outcome.message)
    return redirect(publication)


def _move_context(
    request: AuthenticatedHttpRequest, publication: Publication, form: RescheduleForm, message: str
) -> dict[str, object]:
    # Back to the calendar page the "Move" control was on (its address without the host).
    back = request.POST.get("next") or request.headers.get("Referer", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = ""
    parts = urlsplit(back)
    back = urlunsplit(("", "", parts.path, parts.query, "")) if parts.path.startswith("/") else ""
    return {"publication": publication, "form": form, "message": message, "next": back}


@login_required
def publication_move(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The calendar's "Move" control: a small date-and-time form, in place (HTMX) or as a
    page of its own without JavaScript; posting it moves the publication and goes back."""
    publication = _get_publication_for_user(request, pk)
    in_place = request.headers.get("HX-Request") == "true"
    auto_id = f"move-{publication.pk}-%s"
    if request.method == "POST":
        outcome = move_publication(request, publication, auto_id=auto_id)
        if outcome.status == 200:
            messages.success(request, outcome.message)
            if in_place:
                # The entry belongs in another cell now: the calendar is drawn again.
                return HttpResponse(status=204, headers={"HX-Refresh": "true"})
            return redirect(safe_next(request, reverse("calendar")))
        form, message, status = outcome.form, outcome.message, outcome.status
        if status == 400:
            message = ""  # said next to the field
    elif request.GET.get("cancel") and in_place:
        return render(request, "calendar_app/_move_link.html", {"item": publication})
    else:
        message = move_refusal(request.user, publication)
        status = 403 if message else 200
        form = RescheduleForm(publication=publication, auto_id=auto_id)
    # Focus goes to the date, or to the field that needs fixing (HTMX focuses it after the swap).
    focus = (
        "local_time" if form.errors.get("local_time") and not form.errors.get("local_date") else "local_date"
    )
    form.fields[focus].widget.attrs["autofocus"] = True
    context = _move_context(request, publication, form, message)
    template = "calendar_app/_move_form.html" if in_place else "calendar_app/publication_move.html"
    return render(request, template, context, status=status)


@login_required
@require_POST
def publication_duplicate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    publication = _get_publication_for_user(request, pk)
    if not permissions.can_duplicate(request.user, publication):
        raise PermissionDenied
    form = DuplicateForm(
        request.POST,
        publication=publication,
        to_other_posts=permissions.can_duplicate_to_other_posts(request.user),
    )
    if not form.is_valid():
        errors = " ".join(str(e) for errors in form.errors.values() for e in errors)
        messages.error(request, errors)
        return redirect(publication)
    copies = workflow.duplicate_publication(
        request.user,
        publication,
        local_date=form.cleaned_data["local_date"],
        local_time=form.cleaned_data["local_time"],
        posts=list(form.cleaned_data.get("posts") or []),
    )
    messages.success(
        request,
        ngettext("%(count)d copy made as a draft.", "%(count)d copies made as drafts.", len(copies))
        % {"count": len(copies)},
    )
    return redirect(copies[0])


@login_required
def asset_file(request: AuthenticatedHttpRequest, pk: int, rendition: str) -> FileResponse:
    """An image, only to those who may see it, never sniffed as anything else."""
    asset = get_object_or_404(Asset, pk=pk)
    publications = list(asset.publications.select_related("post"))
    proposals = list(asset.proposals.prefetch_related("target_posts"))
    if not permissions.can_view_asset(request.user, asset, publications, proposals):
        raise Http404
    if rendition == "original":
        name = asset.image.name
    elif rendition in asset.renditions:
        name = asset.renditions[rendition]
    else:
        raise Http404
    if not name:  # an asset always has its file: one without is not there to serve
        raise Http404
    handle = asset.image.storage.open(name, "rb")
    extension = name.rsplit(".", 1)[-1]
    response = FileResponse(
        handle, content_type=asset.content_type if rendition == "original" else _type(extension)
    )
    response["Content-Disposition"] = f'inline; filename="image-{asset.pk}-{rendition}.{extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _type(extension: str) -> str:
    return {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}.get(
        extension, "application/octet-stream"
    )
