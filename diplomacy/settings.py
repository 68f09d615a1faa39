"""Settings for the diplomatic network's content calendar.

Everything that differs between a laptop and production is read from the
environment (see .env.example). Without any variable set, the project runs
with DEBUG on, SQLite and a local-memory cache, so that `make run` works on a
fresh machine. With DJANGO_DEBUG=0 the required production variables must be
set, or start-up stops with a message naming the missing one.
"""

import base64
import hashlib
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def env_bool(name: str, default: bool) -> bool:
    """A switch from the environment; a value that is not clearly on or off stops start-up.

    Reading anything unknown as "off" would turn DJANGO_DEBUG=Flase into production mode
    and DJANGO_SECURE_SSL_REDIRECT=ture into no redirect, silently.
    """
    value = os.environ.get(name, "").strip().lower()
    if value == "":
        return default
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off, got {os.environ[name]!r}."
    )


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}.") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(
            f"The environment variable {name} is required when DJANGO_DEBUG is off. See .env.example."
        )
    return value


DEBUG = env_bool("DJANGO_DEBUG", True)

if DEBUG:
    SECRET_KEY = os.environ.get(
        "DJANGO_SECRET_KEY", "insecure-development-key-only-for-debug-mode-0123456789"
    )
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
else:
    SECRET_KEY = env_required("DJANGO_SECRET_KEY")
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        env_required("DJANGO_ALLOWED_HOSTS")

CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "diplomacy.apps.DiplomacyConfig",
    "calendar_app.apps.CalendarAppConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_countries",
    "django_filters",
    "django_htmx",
    "django_q",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
]

MIDDLEWARE = [
    # First, so that its last step runs after every other middleware's writes.
    "diplomacy.freshness.FreshnessMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "diplomacy.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "diplomacy.middleware.RequireMFAMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "diplomacy.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "diplomacy.context_processors.navigation",
                "calendar_app.context_processors.unread_notifications",
                "calendar_app.context_processors.crisis_banner",
            ],
        },
    },
]

WSGI_APPLICATION = "diplomacy.wsgi.application"
ASGI_APPLICATION = "diplomacy.asgi.application"

# Database: SQLite by default. The task worker polls the same file, so SQLite
# runs in WAL mode with a busy timeout and IMMEDIATE transactions: a deferred
# transaction that reads and then writes fails at once with "database is
# locked" whatever the timeout (see PITFALLS). No ATOMIC_REQUESTS: keep
# transactions short and explicit.
SQLITE_PATH = os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3"))
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{SQLITE_PATH}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": ("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"),
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SQLITE_TEST_PATH") or None}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "diplomacy.User"

# Cache: Redis when REDIS_URL is set (shared by every gunicorn worker, which
# allauth's rate limits need); local memory otherwise.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SESSION_ENGINE = "django.contrib.sessions.backends.db"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Accounts (django-allauth 65.x names; the deprecated ones are flagged by its
# checks, and CI runs `check --fail-level WARNING`).
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_ADAPTER = "diplomacy.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Content calendar] "
# allauth's rate limits stay on with their defaults (login 30/m per IP, 5
# failed attempts per address in 5 minutes, ...). They live in the cache, so
# production needs the shared Redis cache (REDIS_URL).
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("ALLAUTH_TRUSTED_PROXY_COUNT", 0)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = os.environ.get("MFA_TOTP_ISSUER", "Content calendar")
# Off: tracking writes to the database on every request (a write lock on SQLite, a
# commit on PostgreSQL); the sessions page still lists each login's device and address.
USERSESSIONS_TRACK_ACTIVITY = False
# allauth has no "require MFA" setting; diplomacy.middleware.RequireMFAMiddleware
# sends central reviewers to MFA set-up while this is on.
REQUIRE_MFA_FOR_REVIEWERS = env_bool("REQUIRE_MFA_FOR_REVIEWERS", not DEBUG)
INVITATION_VALID_DAYS = env_int("INVITATION_VALID_DAYS", 7)

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Signs what the webhook connector sends (HMAC-SHA256); the receiver checks it. The
# receiver must hold this key, so it is never SECRET_KEY (which signs sessions, password
# resets and queued tasks): production needs its own, development derives a throw-away one.
if DEBUG:
    WEBHOOK_SIGNING_KEY = os.environ.get("WEBHOOK_SIGNING_KEY", "").strip() or (
        "development-webhook-key-" + hashlib.sha256(f"webhook-signing:{SECRET_KEY}".encode()).hexdigest()
    )
else:
    WEBHOOK_SIGNING_KEY = env_required("WEBHOOK_SIGNING_KEY")
    if WEBHOOK_SIGNING_KEY == SECRET_KEY:
        raise ImproperlyConfigured(
            "WEBHOOK_SIGNING_KEY must differ from DJANGO_SECRET_KEY: the webhook receiver holds it."
        )
# Encrypts channel credentials at rest (diplomacy.credentials): Fernet keys, comma-separated
# to rotate (the first encrypts, all decrypt). With DEBUG on and none set, one is derived
# from SECRET_KEY; in production, without it, credentials can be neither stored nor read
# (the channel form and the connectors say so) rather than kept under a guessable key.
CHANNEL_CREDENTIALS_KEYS = env_list("CHANNEL_CREDENTIALS_KEY", [])
if DEBUG and not CHANNEL_CREDENTIALS_KEYS:
    CHANNEL_CREDENTIALS_KEYS = [
        base64.urlsafe_b64encode(
            hashlib.sha256(f"channel-credentials:{SECRET_KEY}".encode()).digest()
        ).decode()
    ]
for _key in CHANNEL_CREDENTIALS_KEYS:
    try:
        _key_ok = len(base64.urlsafe_b64decode(_key.encode())) == 32
    except ValueError:
        _key_ok = False
    if not _key_ok:
        raise ImproperlyConfigured(
            "CHANNEL_CREDENTIALS_KEY must be Fernet keys (32 url-safe base64-encoded bytes), e.g. from "
            '`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`.'
        )
# Translation help (calendar_app.translation): "deepl" or "libretranslate"; empty turns it off
# (no button anywhere). DeepL needs the key (a free key ending ":fx" goes to api-free.deepl.com)
# and takes TRANSLATION_URL only to point at another server; LibreTranslate needs the URL of
# its server and a key when that server asks for one. Requests go to this address only.
TRANSLATION_PROVIDER = os.environ.get("TRANSLATION_PROVIDER", "").strip().lower()
if TRANSLATION_PROVIDER not in ("", "deepl", "libretranslate"):
    raise ImproperlyConfigured(
        f"TRANSLATION_PROVIDER must be deepl, libretranslate or empty, got {TRANSLATION_PROVIDER!r}."
    )
TRANSLATION_API_KEY = os.environ.get("TRANSLATION_API_KEY", "").strip()
TRANSLATION_URL = os.environ.get("TRANSLATION_URL", "").strip()
if TRANSLATION_PROVIDER == "deepl" and not TRANSLATION_API_KEY:
    raise ImproperlyConfigured("TRANSLATION_PROVIDER=deepl needs TRANSLATION_API_KEY.")
if TRANSLATION_PROVIDER == "libretranslate" and not TRANSLATION_URL:
    raise ImproperlyConfigured("TRANSLATION_PROVIDER=libretranslate needs TRANSLATION_URL (its server).")
if TRANSLATION_URL and not TRANSLATION_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("TRANSLATION_URL must be an http(s) address.")
# Seconds a person waits for a translation before being told to try later.
TRANSLATION_TIMEOUT = env_int("TRANSLATION_TIMEOUT", 10)
# Where emails link to (tasks have no request to build addresses from).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "calendar@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Internationalisation. Times are stored in UTC (a system check enforces it);
# pages show them in a named zone.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("nl", _("Dutch")),
    ("fr", _("French")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates and times are shown through diplomacy.formats in these named formats per language.
FORMAT_MODULE_PATH = ["diplomacy.locale_formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

COUNTRIES_OVERRIDE = {"XK": _("Kosovo")}

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

# Background jobs: django-q2 on its ORM broker over the configured database.
# Its default broker is Redis even when Redis is absent, hence "orm". A task
# still running when `retry` expires is run again, so `retry` stays well above
# `timeout`, `queue_limit` is small and tasks claim their rows themselves.
Q_CLUSTER = {
    "name": "calendar",
    "orm": "default",
    "workers": env_int("Q_WORKERS", 2),
    # A publishing job starts deliveries for 30 s; one delivery with images may then take
    # a few minutes of platform time-outs. `retry` stays far above (django-q2 runs a task
    # again when it expires, and our claims make that harmless, but not free).
    "timeout": 300,
    "retry": 900,
    "max_attempts": 3,
    "queue_limit": 20,
    "catch_up": False,
    "save_limit": 500,
    "label": "Background tasks",
}

# Nothing goes out late: a publication whose time is more than this past is not sent (the
# engine's claim and "publish now" refuse it) but marked missed for a person to reschedule.
# An event announced for 18:00 posted days later is worse than not posted at all.
MAX_LATENESS = timedelta(minutes=env_int("MAX_LATENESS_MINUTES", 15))

# The publishing dispatcher (`manage.py dispatch`): how many platform requests it keeps in
# flight at once. They wait on platforms in a thread pool; the database is written from one
# connection, in batches, so this costs no database connection per request.
DISPATCH_CONCURRENCY = env_int("DISPATCH_CONCURRENCY", 32)
# A sending process (the dispatcher, the minute job) beats this often; a claim whose holder
# has not beaten for DISPATCH_DEAD_AFTER_SECONDS is dead: its delivery becomes unknown.
DISPATCH_HEARTBEAT_SECONDS = env_int("DISPATCH_HEARTBEAT_SECONDS", 10)
DISPATCH_DEAD_AFTER_SECONDS = env_int("DISPATCH_DEAD_AFTER_SECONDS", 60)
# Where `manage.py dispatch` keeps its one-per-host lock file (default: the temporary directory).
DISPATCH_LOCK_DIR = os.environ.get("DISPATCH_LOCK_DIR", "")

# Security headers. Production values are on when DEBUG is off.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
# Roll HSTS out with a small max-age first, then raise it (see README).
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
# Preloading is a commitment browsers hard-code for months: an explicit opt-in
# (DJANGO_SECURE_HSTS_PRELOAD=1), so its reminder is silenced until then.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# Only behind a proxy that overwrites this header.
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (django-csp 4): no inline script or style, no eval.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"django_q": {"level": "WARNING"}},
}
