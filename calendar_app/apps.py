from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CalendarAppConfig(AppConfig):
    name = "calendar_app"
    verbose_name = _("Content calendar")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from calendar_app import guidelines
        from diplomacy.models import CHANNEL_LANGUAGE_CHECKS

        # A channel's new language settings must leave its planned publications sendable.
        if guidelines.plans_that_would_not_fit not in CHANNEL_LANGUAGE_CHECKS:
            CHANNEL_LANGUAGE_CHECKS.append(guidelines.plans_that_would_not_fit)
