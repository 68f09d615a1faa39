"""django-allauth is configured through settings and this one adapter."""

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Nobody signs up: people join by invitation (diplomacy.invitations)."""
        return False
