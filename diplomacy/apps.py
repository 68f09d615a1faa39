import atexit
from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.utils.translation import gettext_lazy as _


class DiplomacyConfig(AppConfig):
    name = "diplomacy"
    verbose_name = _("Diplomatic network")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core.signals import request_finished
        from django.db.backends.signals import connection_created
        from django_q.signals import post_execute, post_execute_in_worker

        from diplomacy import freshness

        checks.register(check_time_settings)
        # Every connection reports the tables it writes (page fragments stay fresh), and what
        # was written outside a transaction moves on at the latest when the work ends: a
        # request, a task (in the worker that ran it, and in the monitor that ran its hook),
        # a management command or a shell (the process).
        connection_created.connect(freshness.install, dispatch_uid="diplomacy.freshness")
        request_finished.connect(freshness.move_on_everywhere, dispatch_uid="diplomacy.freshness")
        post_execute_in_worker.connect(freshness.move_on_everywhere, dispatch_uid="diplomacy.freshness")
        post_execute.connect(freshness.move_on_everywhere, dispatch_uid="diplomacy.freshness")
        atexit.register(freshness.move_on_at_exit)


def check_time_settings(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Times are stored in UTC; post-local times are derived, never stored as naive."""
    errors: list[checks.CheckMessage] = []
    if not settings.USE_TZ or settings.TIME_ZONE != "UTC":
        errors.append(
            checks.Error(
                "USE_TZ must be True and TIME_ZONE must be 'UTC'.",
                hint="Publication times are stored in UTC and shown in a named zone.",
                id="diplomacy.E001",
            )
        )
    q_cluster = getattr(settings, "Q_CLUSTER", {})
    if q_cluster.get("orm") != "default":
        errors.append(
            checks.Error(
                "Q_CLUSTER must use the ORM broker ('orm': 'default').",
                hint="Without it django-q2 assumes Redis, whose broker loses in-flight tasks.",
                id="diplomacy.E002",
            )
        )
    if q_cluster.get("retry", 0) <= q_cluster.get("timeout", 0) * 2:
        errors.append(
            checks.Error(
                "Q_CLUSTER['retry'] must be well above twice its 'timeout'.",
                hint="A task still running when retry expires is run again.",
                id="diplomacy.E003",
            )
        )
    return errors
