from django.http import HttpRequest

from calendar_app import notifications


def unread_notifications(request: HttpRequest) -> dict:
    """The bell's number, for base.html (one query per page for logged-in users)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": notifications.unread_count(user)}
