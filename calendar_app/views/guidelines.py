"""The common guidelines: read by everybody, configured by central reviewers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from calendar_app import guidelines, permissions
from calendar_app.forms import GuidelineForm
from calendar_app.models import GuidelineVersion
from diplomacy.http import AuthenticatedHttpRequest


@login_required
def guideline_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not permissions.can_view_guidelines(request.user):
        raise PermissionDenied
    rules = guidelines.configured_rules()
    context = {
        "rules": rules,
        "version": guidelines.current_version(),
        "can_manage": permissions.can_manage_guidelines(request.user),
        "history": GuidelineVersion.objects.select_related("changed_by")[:10]
        if permissions.can_manage_guidelines(request.user)
        else [],
    }
    return render(request, "calendar_app/guidelines.html", context)


@login_required
def guideline_edit(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    if not permissions.can_manage_guidelines(request.user):
        raise PermissionDenied
    if code not in guidelines.RULES:
        raise Http404
    form = GuidelineForm(request.POST or None, code=code)
    if request.method == "POST" and form.is_valid():
        version = form.save(request.user)
        messages.success(
            request,
            _("Guideline saved. The guidelines are now at version %(number)s.") % {"number": version.number},
        )
        return redirect("guidelines")
    status = 400 if request.method == "POST" else 200
    return render(request, "calendar_app/guideline_form.html", {"form": form, "code": code}, status=status)
