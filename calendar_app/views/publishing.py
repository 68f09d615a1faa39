"""What goes out: the "publish now" list of manual channels, and deliveries to check."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.core.validators import URLValidator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from calendar_app import permissions, sending, workflow
from calendar_app.models import Delivery, DeliveryStatus, Publication
from calendar_app.publishing import ManualOnly, OutcomeUnknown, SurelyFailed, connector_for, engine, parts
from calendar_app.views.publications import ChannelShown, channel_shown, safe_next
from diplomacy import roles
from diplomacy.http import AuthenticatedHttpRequest
from diplomacy.models import Channel

logger = logging.getLogger(__name__)


@login_required
def publish_now(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Approved publications due on channels posted by hand, with the exact approved text."""
    if not permissions.can_use_calendar(request.user):
        raise PermissionDenied
    engine.create_due_deliveries()
    # Held by a crisis, or missed during one: not to be posted until released or rescheduled.
    sendable = Publication.objects.may_go_out().in_care_of(request.user)
    deliveries = Delivery.objects.filter(
        Q(status=DeliveryStatus.PENDING, channel__connector="manual") | Q(status=DeliveryStatus.UNKNOWN),
        publication__in=sendable,
    ).select_related("publication__post", "channel__post")
    # Every delivery waiting, a page at a time (no cap: the hundred-and-first must be seen too).
    page = Paginator(
        deliveries.prefetch_related("parts").order_by("publication__scheduled_at", "pk"), PUBLISH_NOW_PAGE
    ).get_page(request.GET.get("page"))
    due = list(page.object_list)
    # The approved revisions of every listed publication at once, not a few queries per card.
    approved = parts.approved_contents(delivery.publication for delivery in due)
    items = [{"delivery": d, "sent": _posts_to_make(d, approved)} for d in due]
    return render(request, "calendar_app/publish_now.html", {"items": items, "page": page})


#: Deliveries on one page of "publish now" (each card holds the texts to copy).
PUBLISH_NOW_PAGE = 25


def _posts_to_make(delivery: Delivery, approved: Mapping[int, parts.Content]) -> ChannelShown:
    """The posts a person makes on the delivery's channel, in order: the parts it was frozen
    with, else those the approved revision makes on the channel now (parts.for_delivery).
    `approved`: the approved contents of the listed publications (parts.approved_contents)."""
    plan = sending.ChannelPlan.of(delivery.channel)
    if delivery.plan:  # frozen with the plan the channel had then
        plan = replace(plan, plan=delivery.plan)
    content = approved.get(delivery.publication_id)
    left_out = sending.languages_left_out(plan, content.texts) if content is not None else []
    return channel_shown(delivery.channel, plan, parts.for_delivery(delivery, approved), left_out)


def _get_delivery_for_user(request: AuthenticatedHttpRequest, pk: int) -> Delivery:
    """Load a delivery the user records, continues or sends again: refused (403) to anybody
    outside the ministry before any lookup, 404 when its publication is one the user may not
    know exists (as for a delivery that does not exist), 403 when they see it but may not act."""
    if not roles.is_internal(request.user):
        raise PermissionDenied
    delivery = get_object_or_404(Delivery.objects.select_related("publication__post", "channel__post"), pk=pk)
    if not permissions.can_view_publication(request.user, delivery.publication):
        raise Http404
    if not permissions.can_record_delivery(request.user, delivery.publication):
        raise PermissionDenied
    return delivery


@login_required
@require_POST
def delivery_record(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    delivery = _get_delivery_for_user(request, pk)
    url = request.POST.get("url", "").strip()
    try:
        URLValidator(schemes=["https", "http"])(url)
    except ValidationError:
        messages.error(request, _("Give the live address of the post, starting with https://."))
        return redirect(safe_next(request, delivery.publication.get_absolute_url()))
    try:
        workflow.record_delivery(request.user, delivery, url[:500])
    except workflow.TransitionNotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Recorded as published on %(channel)s.") % {"channel": delivery.channel})
    return redirect(safe_next(request, delivery.publication.get_absolute_url()))


@login_required
@require_POST
def delivery_retry(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    delivery = _get_delivery_for_user(request, pk)
    try:
        workflow.retry_delivery(request.user, delivery)
    except workflow.TransitionNotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("It will be sent again within a minute."))
    return redirect(safe_next(request, delivery.publication.get_absolute_url()))


#: The longest live address kept (Delivery.url).
MAX_URL = 500


@login_required
@require_POST
def delivery_continue(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A part whose outcome was unknown went out: its address recorded, the rest sent. An
    address that names no post of the channel answers 400 with the form to correct it."""
    delivery = _get_delivery_for_user(request, pk)
    back = safe_next(request, delivery.publication.get_absolute_url())
    url = request.POST.get("url", "").strip()
    try:
        URLValidator(schemes=["https", "http"])(url)
        if len(url) > MAX_URL:
            raise ValidationError("too long")
    except ValidationError:
        message = _("Give the live address of the post, starting with https://.")
        return _continue_refused(request, delivery, url, back, message)
    try:
        delivery = workflow.continue_delivery(request.user, delivery, url)
    except workflow.AddressRefused as exc:
        return _continue_refused(request, delivery, url, back, str(exc))
    except workflow.TransitionNotAllowed as exc:
        messages.error(request, str(exc))
    else:
        if delivery.status == DeliveryStatus.DELIVERED:
            messages.success(
                request, _("Recorded as published on %(channel)s.") % {"channel": delivery.channel}
            )
        else:
            messages.success(request, _("Recorded: the next posts will be sent within a minute."))
    return redirect(back)


def _continue_refused(
    request: AuthenticatedHttpRequest, delivery: Delivery, url: str, back: str, message: str
) -> HttpResponse:
    """The continue form again, with what was wrong: nothing was changed."""
    context = {
        "delivery": delivery,
        "part": delivery.part_to_check,
        "url": url,
        "back": back,
        "error": message,
    }
    return render(request, "calendar_app/delivery_continue.html", context, status=400)


@login_required
@require_POST
def channel_test_connection(request: AuthenticatedHttpRequest, channel_id: int) -> HttpResponse:
    """A harmless authenticated read on the channel's platform ("Connected as …"), for
    whoever may edit the channel; the outcome is shown as a message on the channel page."""
    channel = get_object_or_404(Channel.objects.select_related("post"), pk=channel_id)
    if not roles.can_edit_channel(request.user, channel):
        raise PermissionDenied
    try:
        name = connector_for(channel.connector).check_connection(channel)
    except ManualOnly:
        messages.info(request, _("This channel is published by hand: there is no connection to test."))
    except (SurelyFailed, OutcomeUnknown) as exc:
        messages.error(request, _("The connection test failed: %(error)s") % {"error": exc})
    except Exception:
        # A connector's bug (an answer shaped unlike its documentation) must not turn the
        # button into a server error page: say so, and keep the details in the log.
        logger.exception("Connection test of channel %s failed unexpectedly", channel.pk)
        messages.error(
            request,
            _("The connection test failed with an unexpected answer: the details are in the server log."),
        )
    else:
        messages.success(request, _("Connected as %(name)s.") % {"name": name})
    return redirect("channel_edit", channel.pk)
