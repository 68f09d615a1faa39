from django.http import HttpRequest

from diplomacy import roles


def navigation(request: HttpRequest) -> dict:
    """The role-aware top navigation, for base.html."""
    user = getattr(request, "user", None)
    if user is None:
        return {}
    return {"nav_items": roles.navigation(user)}
