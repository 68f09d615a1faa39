"""The request type of views behind `login_required`.

Django types `request.user` as `User | AnonymousUser`, which is right for a
view anybody may open. Behind `login_required` the user is always a logged-in
`User`; annotating such a view's request as `AuthenticatedHttpRequest` says so
to the type checker, so that the view passes `request.user` to functions that
take a `User` (workflow actions, invitations) without a cast at each call. It
also names `htmx`, which django-htmx's middleware sets on every request.

Only the annotation changes: at run time the request is Django's own
HttpRequest. Use it on views that `login_required` guards, never on a view
that an anonymous visitor can reach.
"""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from diplomacy.models import User


class AuthenticatedHttpRequest(HttpRequest):
    user: User
    htmx: HtmxDetails
