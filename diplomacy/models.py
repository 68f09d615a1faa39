"""The diplomatic network: who works where, and on which channels posts publish.

Post, Channel and Partner describe the network; Membership says which role a
user holds in which scope; Invitation is how a person joins (signup is closed).
"""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from diplomacy.credentials import decrypt as decrypt_credentials

#: Language codes as ISO 639-1 two-letter codes, stored comma-separated.
LANGUAGE_LIST_RE = r"^([a-z]{2})(,[a-z]{2})*$"
language_list_validator = RegexValidator(
    LANGUAGE_LIST_RE,
    _("Give language codes as two lower-case letters separated by commas, e.g. nl,fr,en."),
)


@cache
def known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in known_timezones():
        raise ValidationError(
            _("“%(value)s” is not a known IANA time zone, e.g. Europe/Brussels."),
            params={"value": value},
            code="invalid_timezone",
        )


class HttpsURLField(models.URLField):
    """A URL field whose form field assumes https when the scheme is left out."""

    def formfield(self, **kwargs: Any) -> forms.Field | None:
        kwargs.setdefault("assume_scheme", "https")
        return super().formfield(**kwargs)


def split_languages(value: str) -> list[str]:
    return [code for code in value.split(",") if code]


def normalise_languages(codes: str | list[str]) -> str:
    """Turn "NL; fr , en" or ["nl", "fr"] into "nl,fr,en" (order kept, no repeats)."""
    if isinstance(codes, str):
        codes = codes.replace(";", ",").replace(" ", ",").split(",")
    seen: list[str] = []
    for code in codes:
        code = code.strip().lower()
        if code and code not in seen:
            seen.append(code)
    return ",".join(seen)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who logs in with an email address; roles come from Memberships."""

    # Removing AbstractUser's fields: the stubs declare them as str columns.
    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    language = models.CharField(
        _("interface language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Empty: follow the browser's language."),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    # Email-based, unlike the username-based manager the stubs expect of an AbstractUser.
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class PostKind(models.TextChoices):
    EMBASSY = "embassy", _("Embassy")
    CONSULATE_GENERAL = "consulate_general", _("Consulate-General")
    CONSULATE = "consulate", _("Consulate")
    PERMANENT_REPRESENTATION = "permanent_representation", _("Permanent Representation")
    OFFICE = "office", _("Office")


class PostQuerySet(models.QuerySet["Post"]):
    def active(self) -> PostQuerySet:
        return self.filter(active=True)

    def speaking(self, language: str) -> PostQuerySet:
        """Posts whose host or publishing languages include `language`."""
        pattern = rf"(^|,){language}(,|$)"
        return self.filter(Q(host_languages__regex=pattern) | Q(publishing_languages__regex=pattern))


class Post(models.Model):
    """A diplomatic post: embassy, consulate(-general), permanent representation, office."""

    code = models.SlugField(
        _("code"), max_length=64, unique=True, help_text=_("Stable identifier, e.g. be-cg-istanbul.")
    )
    kind = models.CharField(_("kind"), max_length=32, choices=PostKind.choices)
    name = models.CharField(_("name"), max_length=200)
    city = models.CharField(_("city"), max_length=100)
    country = CountryField(_("country"))
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        validators=[validate_timezone],
        help_text=_("IANA time zone of the post, e.g. Europe/Istanbul."),
    )
    host_languages = models.CharField(
        _("host languages"),
        max_length=100,
        blank=True,
        validators=[language_list_validator],
        help_text=_("Main languages of the host country, e.g. tr."),
    )
    publishing_languages = models.CharField(
        _("publishing-language policy"),
        max_length=100,
        validators=[language_list_validator],
        help_text=_("Languages this post is expected to publish in, e.g. nl,fr,en,tr."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["country", "city", "name"]
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        indexes = [models.Index(fields=["country", "kind"], name="post_country_kind_idx")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("post_detail", args=[self.code])

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def local_now(self) -> datetime:
        return timezone.now().astimezone(self.zone)

    @property
    def host_language_list(self) -> list[str]:
        return split_languages(self.host_languages)

    @property
    def publishing_language_list(self) -> list[str]:
        return split_languages(self.publishing_languages)


class Platform(models.TextChoices):
    FACEBOOK = "facebook", "Facebook"
    X = "x", "X"
    INSTAGRAM = "instagram", "Instagram"
    LINKEDIN = "linkedin", "LinkedIn"
    YOUTUBE = "youtube", "YouTube"
    BLUESKY = "bluesky", "Bluesky"
    MASTODON = "mastodon", "Mastodon"
    THREADS = "threads", "Threads"


class Connector(models.TextChoices):
    MANUAL = "manual", _("By hand, from the “publish now” list")
    WEBHOOK = "webhook", _("Webhook")
    MASTODON = "mastodon", _("Mastodon API")
    BLUESKY = "bluesky", _("Bluesky API")
    FACEBOOK = "facebook", _("Facebook Graph API")
    X = "x", _("X API")
    LINKEDIN = "linkedin", _("LinkedIn API")


#: The connectors that call a platform's API with the channel's stored credentials, and
#: the one platform each of them publishes to.
API_CONNECTORS: dict[str, str] = {
    Connector.MASTODON: Platform.MASTODON,
    Connector.BLUESKY: Platform.BLUESKY,
    Connector.FACEBOOK: Platform.FACEBOOK,
    Connector.X: Platform.X,
    Connector.LINKEDIN: Platform.LINKEDIN,
}


class LanguagePlan(models.TextChoices):
    """How a channel publishes a publication written in several of its languages."""

    THREAD = "thread", _("A thread: one post per language, each answering the one before")
    SEPARATE = "separate", _("Separate posts: one per language")
    COMBINED = "combined", _("One post: every language under each other")
    SINGLE = "single", _("One language only: the account publishes in one language")


class Separator(models.TextChoices):
    """What stands between two languages of a combined post."""

    BLANK_LINE = "blank_line", _("A blank line")
    DASH = "dash", _("A line with a dash (—)")
    DOTS = "dots", _("A line with dots (· · ·)")


#: The text each separator puts between two languages.
SEPARATOR_TEXTS: dict[str, str] = {
    Separator.BLANK_LINE: "\n\n",
    Separator.DASH: "\n\n—\n\n",
    Separator.DOTS: "\n\n· · ·\n\n",
}

#: Platforms where an account can answer its own post, so that the answers read as one
#: thread. Facebook, Instagram, LinkedIn and YouTube have no such thing for a page.
THREAD_PLATFORMS = frozenset({Platform.X, Platform.BLUESKY, Platform.MASTODON, Platform.THREADS})


def built_in_plan(platform: str) -> str:
    """The plan a platform's channels get until central chooses another: a thread where
    the platform has threads, one combined post elsewhere."""
    return LanguagePlan.THREAD if platform in THREAD_PLATFORMS else LanguagePlan.COMBINED


def plan_problems(platform: str, plan: str, languages: list[str], policy: list[str]) -> dict[str, str]:
    """What is wrong with a channel's language plan, by field ({} when nothing): the one
    rule the channel form, the registry import and the model's clean() all apply.

    `languages` are the channel's own content languages (empty: the post's policy),
    `policy` the post's publishing-language policy.
    """
    problems: dict[str, str] = {}
    if plan == LanguagePlan.THREAD and platform not in THREAD_PLATFORMS:
        problems["language_plan"] = str(
            _("%(platform)s has no threads: choose one combined post or separate posts.")
            % {"platform": dict(Platform.choices).get(platform, platform)}
        )
    if not (languages or policy):
        problems["content_languages"] = str(
            _(
                "This channel publishes no language: give its languages, "
                "or set the post's publishing-language policy."
            )
        )
    elif plan == LanguagePlan.SINGLE:
        if len(languages) != 1:
            problems["content_languages"] = str(
                _("A one-language channel names exactly one language, e.g. fr.")
            )
        elif policy and languages[0] not in policy:
            problems["content_languages"] = str(
                _(
                    "The post publishes nothing in %(language)s (its policy is %(policy)s): "
                    "add the language to the post's policy or choose another one."
                )
                % {"language": languages[0], "policy": ",".join(policy)}
            )
    return problems


#: Checks of a channel's new language settings (languages, plan, separator) before a
#: person saves them, each returning what would go wrong (empty: nothing). Apps that plan
#: content on channels add theirs when they start (calendar_app: the publications planned
#: on the channel must still fit), so the registry never imports them.
CHANNEL_LANGUAGE_CHECKS: list[Callable[[Channel], list[str]]] = []


class PlatformDefault(models.Model):
    """Central's choice of language plan for new channels of one platform."""

    platform = models.CharField(_("platform"), max_length=20, choices=Platform.choices, unique=True)
    language_plan = models.CharField(_("languages go out as"), max_length=20, choices=LanguagePlan.choices)
    separator = models.CharField(
        _("between two languages"), max_length=20, choices=Separator.choices, default=Separator.BLANK_LINE
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["platform"]
        verbose_name = _("platform default")
        verbose_name_plural = _("platform defaults")

    def __str__(self) -> str:
        return f"{self.get_platform_display()}: {self.get_language_plan_display()}"

    def clean(self) -> None:
        problems = plan_problems(self.platform, self.language_plan, ["xx"], ["xx"])
        if "language_plan" in problems:
            raise ValidationError({"language_plan": problems["language_plan"]})


def default_plan(platform: str) -> tuple[str, str]:
    """(plan, separator) a new channel of `platform` starts with: central's choice, else
    the built-in one."""
    row = PlatformDefault.objects.filter(platform=platform).first()
    if row is not None:
        return row.language_plan, row.separator
    return built_in_plan(platform), Separator.BLANK_LINE


class Channel(models.Model):
    """One social-media account of a post on one platform.

    An API connector publishes with the channel's credentials, kept encrypted at rest
    (diplomacy.credentials) and never shown again once stored.
    """

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="channels", verbose_name=_("post"))
    platform = models.CharField(_("platform"), max_length=20, choices=Platform.choices)
    handle = models.CharField(
        _("handle"), max_length=100, help_text=_("The account name, e.g. @BelgiumInTurkey.")
    )
    url = HttpsURLField(_("address"), blank=True)
    content_languages = models.CharField(
        _("content languages"),
        max_length=100,
        blank=True,
        validators=[language_list_validator],
        help_text=_("Languages published on this channel, e.g. tr,en."),
    )
    #: How a publication in several languages goes out (calendar_app.sending reads it).
    language_plan = models.CharField(
        _("languages go out as"),
        max_length=20,
        choices=LanguagePlan.choices,
        default=LanguagePlan.COMBINED,
        help_text=_("How a publication written in several of the channel's languages is posted."),
    )
    separator = models.CharField(
        _("between two languages"),
        max_length=20,
        choices=Separator.choices,
        default=Separator.BLANK_LINE,
        help_text=_("In one combined post: what stands between two languages."),
    )
    weekly_target = models.PositiveSmallIntegerField(
        _("weekly target"), default=3, help_text=_("Publications a week this channel aims for.")
    )
    connector = models.CharField(
        _("publishing"),
        max_length=20,
        choices=Connector.choices,
        default=Connector.MANUAL,
    )
    endpoint = HttpsURLField(
        _("webhook or API address"),
        blank=True,
        help_text=_(
            "Webhook: where the publication is posted. Mastodon: the server, e.g. https://mastodon.social. "
            "Other platforms: leave empty to use their public API."
        ),
    )
    #: A Fernet token of {"connector", "endpoint", "account", "secret"}; see diplomacy.credentials.
    credentials_token = models.TextField(_("credentials (encrypted)"), blank=True, editable=False)
    credentials_stored_at = models.DateTimeField(
        _("credentials stored"), null=True, blank=True, editable=False
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["post", "platform", "handle"]
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        constraints = [
            # A post has one channel per account on a platform; the importer
            # relies on (post, platform, handle) as the natural key.
            models.UniqueConstraint(
                fields=["post", "platform", "handle"], name="channel_unique_handle_per_post"
            ),
            # A weekly target above 100 is a typo, not a plan.
            models.CheckConstraint(condition=Q(weekly_target__lte=100), name="channel_weekly_target_sane"),
            # A thread needs a platform where an account answers its own posts.
            models.CheckConstraint(
                condition=~Q(language_plan="thread") | Q(platform__in=sorted(THREAD_PLATFORMS)),
                name="channel_thread_where_platform_has_threads",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} {self.handle}"

    @property
    def content_language_list(self) -> list[str]:
        return split_languages(self.content_languages)

    @property
    def publishing_languages(self) -> list[str]:
        """The languages this channel publishes, in the order they go out: its own content
        languages, or else its post's publishing-language policy."""
        return self.content_language_list or self.post.publishing_language_list

    def clean(self) -> None:
        super().clean()
        if not self.post_id:
            return  # the missing post is the form's (or the import's) own message
        policy = self.post.publishing_language_list
        problems = plan_problems(self.platform, self.language_plan, self.content_language_list, policy)
        if problems:
            raise ValidationError(problems)

    @property
    def has_credentials(self) -> bool:
        return bool(self.credentials_token)

    def read_credentials(self) -> dict[str, str]:
        """The decrypted credentials ({} when none); CredentialsError when unreadable."""
        return decrypt_credentials(self.credentials_token) if self.credentials_token else {}

    def set_credentials_token(self, token: str) -> None:
        """Keep an encrypted token (or "" to forget them); the caller saves."""
        self.credentials_token = token
        self.credentials_stored_at = timezone.now() if token else None


class PartnerRegion(models.TextChoices):
    FLANDERS = "flanders", _("Flanders")
    WALLONIA = "wallonia", _("Wallonia")
    BRUSSELS = "brussels", _("Brussels")
    FEDERATION_WALLONIA_BRUSSELS = "federation_wallonia_brussels", _("Wallonia-Brussels Federation")
    GERMAN_SPEAKING = "german_speaking", _("German-speaking Community")
    FEDERAL = "federal", _("Federal")


class PartnerFocus(models.TextChoices):
    TRADE = "trade", _("Trade and investment")
    TOURISM = "tourism", _("Tourism")
    CULTURE = "culture", _("Culture")
    GENERAL = "general", _("General")


class Partner(models.Model):
    """A regional partner agency that proposes content for the network."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    region = models.CharField(_("region"), max_length=40, choices=PartnerRegion.choices)
    focus = models.CharField(_("focus"), max_length=20, choices=PartnerFocus.choices)
    website = HttpsURLField(_("website"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("partner")
        verbose_name_plural = _("partners")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    POST_EDITOR = "post_editor", _("Post editor")
    POST_MANAGER = "post_manager", _("Post manager")
    CENTRAL_REVIEWER = "central_reviewer", _("Central reviewer")
    PARTNER_CONTRIBUTOR = "partner_contributor", _("Partner contributor")


POST_ROLES = (Role.POST_EDITOR, Role.POST_MANAGER)

#: The scope must match the role: post roles name a post and no partner, partner
#: contributors a partner and no post, central reviewers neither (the whole network).
SCOPE_MATCHES_ROLE = (
    Q(role__in=POST_ROLES, post__isnull=False, partner__isnull=True)
    | Q(role=Role.PARTNER_CONTRIBUTOR, post__isnull=True, partner__isnull=False)
    | Q(role=Role.CENTRAL_REVIEWER, post__isnull=True, partner__isnull=True)
)


class Membership(models.Model):
    """A user's role in a scope: a post (post roles), a partner, or the network."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    post = models.ForeignKey(
        Post,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("post"),
    )
    partner = models.ForeignKey(
        Partner,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("partner"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=SCOPE_MATCHES_ROLE,
                name="membership_scope_matches_role",
            ),
            # One row per (user, role, scope); NULLs are not equal in a plain
            # unique constraint, hence one constraint per kind of scope.
            models.UniqueConstraint(
                fields=["user", "role", "post"],
                condition=Q(post__isnull=False),
                name="membership_unique_post_role",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "partner"],
                condition=Q(partner__isnull=False),
                name="membership_unique_partner_role",
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=Q(post__isnull=True, partner__isnull=True),
                name="membership_unique_network_role",
            ),
        ]

    def __str__(self) -> str:
        scope = self.post or self.partner or _("the network")
        return f"{self.user}: {self.get_role_display()} ({scope})"

    def clean(self) -> None:
        if self.role in POST_ROLES and (self.post is None or self.partner is not None):
            raise ValidationError(_("A post role needs a post and no partner."))
        if self.role == Role.PARTNER_CONTRIBUTOR and (self.partner is None or self.post is not None):
            raise ValidationError(_("A partner contributor needs a partner and no post."))
        if self.role == Role.CENTRAL_REVIEWER and (self.post is not None or self.partner is not None):
            raise ValidationError(_("A central reviewer has no post or partner."))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def open(self) -> InvitationQuerySet:
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """An emailed, single-use, expiring invitation to join in one role.

    Only a hash of the token is stored: a database leak does not hand out
    working links.
    """

    email = models.EmailField(_("email address"))
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("post"))
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("partner")
    )
    language = models.CharField(
        _("language of the email"), max_length=10, choices=settings.LANGUAGES, default="en"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="invitations_sent",
        verbose_name=_("invited by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.CheckConstraint(
                condition=SCOPE_MATCHES_ROLE,
                name="invitation_scope_matches_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_role_display()})"

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)

    @classmethod
    def default_expiry(cls) -> datetime:
        return timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS)

    @property
    def scope(self) -> Post | Partner | None:
        return self.post or self.partner

    @property
    def state(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "open"


class TableVersion(models.Model):
    """The version of one database table: a new random value after each committed write
    (diplomacy.freshness, which keeps page fragments fresh)."""

    table = models.CharField(max_length=63, primary_key=True)
    version = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("table version")
        verbose_name_plural = _("table versions")

    def __str__(self) -> str:
        return f"{self.table} {self.version}"
