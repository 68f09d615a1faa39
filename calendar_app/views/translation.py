"""Translation help in the publication editor: "Draft the French from the Dutch" and "I have
checked it", without JavaScript.

Both are submit buttons of the editor's own form (`translate="fr:nl"`,
`confirm_translation="fr"`), so everything typed comes along: the edit view hands the
request here, gets back the form holding what was typed plus the draft or the confirmation,
and shows it again. Nothing is saved until "Save". A saved draft can also be confirmed on
the publication page (`confirm_translation`).
"""

from __future__ import annotations

from typing import TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from calendar_app import permissions, translation, workflow
from calendar_app.forms.translation import TranslationHelpMixin
from calendar_app.models import Publication, is_whole_number, language_name
from calendar_app.translation.checking import confirm_machine_translation
from diplomacy.http import AuthenticatedHttpRequest

TranslationForm = TypeVar("TranslationForm", bound=TranslationHelpMixin)

#: The editor's buttons handled here rather than by "Save".
EDITOR_ACTIONS = ("translate", "confirm_translation")


def wants_editor_action(request: AuthenticatedHttpRequest) -> bool:
    return request.method == "POST" and any(name in request.POST for name in EDITOR_ACTIONS)


def typed_values(form: TranslationHelpMixin, data: QueryDict) -> dict[str, object]:
    """What the person typed, as initial values of an unbound form (files cannot come back)."""
    typed: dict[str, object] = {}
    for name, field in form.fields.items():
        if isinstance(field, forms.FileField):
            continue
        if isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
            typed[name] = data.getlist(name)
        elif name in data:
            typed[name] = data.get(name)
    return typed


def _language_pair(value: str, languages: list[str]) -> tuple[str, str]:
    target, _sep, source = (value or "").partition(":")
    if target not in languages or source not in languages or target == source:
        raise BadRequest("Unknown language code.")
    return target, source


def editor_action(request: AuthenticatedHttpRequest, form: TranslationForm) -> TranslationForm:
    """`form` (unbound, built as the view built the one posted) filled with what was typed,
    plus a machine draft of one language or a person's confirmation of one. Saves nothing.
    The caller has checked that the person may write these texts.

    404 when translation is off, 400 for a language the editor does not offer; a provider
    that fails leaves every text as typed and says why.
    """
    data = request.POST
    typed = typed_values(form, data)
    if "translate" in data:
        if not translation.enabled():
            raise Http404
        target, source = _language_pair(data["translate"], form.languages)
        try:
            text, machine = translation.draft(str(typed.get(form.text_name(source)) or ""), source, target)
        except translation.TranslationFailed as exc:
            messages.error(request, exc.message)
        else:
            typed.update(
                {form.text_name(target): text, f"machine_{target}": machine.token(), f"checked_{target}": ""}
            )
            messages.info(
                request,
                _(
                    "The %(target)s text is a machine translation of the %(source)s: read it, then confirm "
                    "or correct it. Nothing is saved until you save."
                )
                % {"target": language_name(target), "source": language_name(source)},
            )
    else:
        language = data.get("confirm_translation", "")
        if language not in form.languages:
            raise BadRequest("Unknown language code.")
        if typed.get(f"machine_{language}"):
            typed[f"checked_{language}"] = "1"
            messages.info(
                request,
                _("You confirmed the %(language)s text. It is recorded when you save.")
                % {"language": language_name(language)},
            )
    if request.FILES:
        messages.warning(request, _("A browser does not send a chosen file twice: choose the image again."))
    form.initial.update(typed)
    return form


@login_required
@require_POST
def confirm_translation(request: AuthenticatedHttpRequest, pk: int, language: str) -> HttpResponse:
    """On the publication page: "I have read the French machine translation" (saved at once)."""
    publication = get_object_or_404(Publication.objects.select_related("post"), pk=pk)
    if not permissions.can_view_publication(request.user, publication):
        raise Http404  # another post's draft is not even acknowledged to exist
    if not permissions.can_edit_publication(request.user, publication):
        raise PermissionDenied
    if language not in {variant.language for variant in publication.variants.all()}:
        raise Http404
    revision = request.POST.get("revision", "")
    if not is_whole_number(revision):
        raise BadRequest("A revision number is required.")
    try:
        confirm_machine_translation(request.user, publication, language, expected_revision=int(revision))
    except workflow.WorkflowError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("The %(language)s text is confirmed.") % {"language": language_name(language)}
        )
    return redirect(publication)
