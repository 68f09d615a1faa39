"""Request middleware: the user's remembered language, and MFA for reviewers."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import translation

from diplomacy import roles


class UserLanguageMiddleware:
    """A logged-in user's saved language wins over the cookie and Accept-Language.

    Django's LocaleMiddleware has already picked a language from the URL-less
    sources (cookie, then Accept-Language); a user who chose one in the
    language switcher gets it on every device.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user and user.is_authenticated else ""
        if language and translation.check_for_language(language):
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if language:
            response.headers.setdefault("Content-Language", language)
        return response


class RequireMFAMiddleware:
    """Send users whose role requires MFA to set it up before anything else.

    allauth has no "require MFA" setting. While REQUIRE_MFA_FOR_REVIEWERS is on,
    a central reviewer without an activated authenticator reaches only the
    account pages (to set up TOTP or log out), static files and the language
    switch.
    """

    allowed_prefixes = ("/accounts/", "/static/", "/i18n/", "/media/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._must_set_up_mfa(request):
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return self.get_response(request)

    def _must_set_up_mfa(self, request: HttpRequest) -> bool:
        if not settings.REQUIRE_MFA_FOR_REVIEWERS:
            return False
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        if request.path.startswith(self.allowed_prefixes):
            return False
        if not roles.requires_mfa(user):
            return False
        from allauth.mfa.models import Authenticator

        return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
