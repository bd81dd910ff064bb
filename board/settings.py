"""Django settings for the board, read from the environment with safe development defaults.

| variable | default | meaning |
| --- | --- | --- |
| ``DEBUG`` | ``true`` | development mode; ``false`` in any deployment |
| ``SECRET_KEY`` | development value when DEBUG | Django's signing key; required when DEBUG is off |
| ``WATERCOOLER_SECRET`` | development value when DEBUG | shared with signaling (tickets, hooks) |
| ``ALLOWED_HOSTS`` | ``127.0.0.1,localhost`` (+ ``*`` when DEBUG) | comma-separated |
| ``CSRF_TRUSTED_ORIGINS`` | empty | comma-separated origins, for HTTPS behind a proxy |
| ``DATABASE_URL`` | ``sqlite:///var/db.sqlite3`` | PostgreSQL in deployments |
| ``WATERCOOLER_SIGNALING_URL`` | ``ws://127.0.0.1:8080/ws`` | public websocket URL (``wss://…``) |
| ``WATERCOOLER_HOOK_URL`` | ``http://127.0.0.1:8080/hooks/board`` | internal; empty: no hooks |
| ``WATERCOOLER_HOOK_TIMEOUT`` | ``2`` | seconds per hook request |
| ``WATERCOOLER_HOOK_MAX_AGE`` | ``30`` | seconds an event may wait to be sent; older ones dropped |
| ``WATERCOOLER_HOOK_EXIT_DRAIN`` | ``5`` | seconds a stopping worker waits for queued events |
| ``WATERCOOLER_TICKET_TTL`` | ``300`` | ticket lifetime in seconds |
| ``STATIC_ROOT`` | ``var/static`` | where ``collectstatic`` puts files for whitenoise |
| ``LOG_LEVEL`` | ``INFO`` | level of the ``board`` loggers |
| ``LOG_FORMAT`` | ``human`` | ``human`` or ``json`` lines (as signaling's ``--log-format``) |
| ``SESSION_COOKIE_SECURE`` | on when DEBUG is off | session cookie only over HTTPS |
| ``CSRF_COOKIE_SECURE`` | as ``SESSION_COOKIE_SECURE`` | CSRF cookie only over HTTPS |
| ``SECURE_HSTS_SECONDS`` | ``0`` (off) | Strict-Transport-Security max-age, once HTTPS works |
| ``SECURE_HSTS_BY_PROXY`` | ``false`` | the proxy sends HSTS (silences check security.W004) |
| ``SECURE_HSTS_INCLUDE_SUBDOMAINS`` | ``false`` | HSTS for every subdomain too |
| ``SECURE_HSTS_PRELOAD`` | ``false`` | allow submitting the domain to browsers' preload lists |
| ``SECURE_SSL_REDIRECT`` | ``false`` | redirect plain HTTP requests to HTTPS |
| ``SECURE_PROXY_SSL_HEADER`` | ``false`` | trust the proxy's ``X-Forwarded-Proto: https`` |
| ``NUM_PROXIES`` | ``0`` | proxies in front of gunicorn (the client address for throttles) |
| ``THROTTLE_TOKEN_PER_ADDRESS`` | ``20/minute`` | token requests and failed logins per address |
| ``THROTTLE_TOKEN_PER_USERNAME`` | ``10/minute`` | token requests and failed logins per username |
| ``THROTTLE_WRITES_PER_USER`` | ``300/minute`` | API writes (POST, PUT, PATCH, DELETE) per user |

With ``DEBUG`` off the pages also carry a Content-Security-Policy (``board/csp.py``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import dj_database_url

from board.csp import content_security_policy
from board.env import (
    ConfigurationError,
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_rate,
    env_secret,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_secret(
    "SECRET_KEY",
    debug=DEBUG,
    development_value="django-insecure-watercooler-development-key-not-for-production",
)
# The development value equals signaling's (signaling/config.py), so both run in debug unconfigured.
WATERCOOLER_SECRET = env_secret(
    "WATERCOOLER_SECRET",
    debug=DEBUG,
    development_value="watercooler-development-secret-do-not-use-in-production",
)
WATERCOOLER_SIGNALING_URL = os.environ.get("WATERCOOLER_SIGNALING_URL", "ws://127.0.0.1:8080/ws")
WATERCOOLER_HOOK_URL = os.environ.get("WATERCOOLER_HOOK_URL", "http://127.0.0.1:8080/hooks/board")
WATERCOOLER_HOOK_TIMEOUT = env_float("WATERCOOLER_HOOK_TIMEOUT", 2.0)
WATERCOOLER_HOOK_MAX_AGE = env_float("WATERCOOLER_HOOK_MAX_AGE", 30.0)
WATERCOOLER_HOOK_EXIT_DRAIN = env_float("WATERCOOLER_HOOK_EXIT_DRAIN", 5.0)
WATERCOOLER_TICKET_TTL = env_int("WATERCOOLER_TICKET_TTL", 300)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", *(["*"] if DEBUG else [])])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "board.scrum",
    "board.pages",
    "board.limits",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "board.csp.ContentSecurityPolicyMiddleware",
    "board.body_limit.BodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "board.urls"
WSGI_APPLICATION = "board.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "web" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database() -> dict[str, object]:
    """``DATABASE_URL`` or the development SQLite file in ``var/``.

    SQLite gets WAL and ``BEGIN IMMEDIATE`` so gunicorn's workers queue for the write lock instead
    of failing, and tests get a file of their own (threads cannot share an in-memory database).
    Test databases carry the process id so two test runs on one machine never collide.
    """
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        VAR_DIR.mkdir(exist_ok=True)
        url = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
    config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=60))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        test_name = Path(tempfile.gettempdir()) / f"watercooler-test-{os.getpid()}.sqlite3"
        config["TEST"] = {"NAME": str(test_name)}
    else:
        config["TEST"] = {"NAME": f"test_watercooler_{os.getpid()}"}
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
# whitenoise warns at startup when the directory is missing (before the first collectstatic).
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "web" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Not the manifest storage: the browser client is plain ES modules importing each other by
    # relative path, which must keep their names.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "sprint-list"
LOGOUT_REDIRECT_URL = "login"

# Security headers and cookies; docs/operations.md has the production checklist they serve.
# A deployment serves HTTPS (TLS here or at a proxy), so its cookies never travel in clear text;
# a development run on http://127.0.0.1 needs them sent over plain HTTP.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", SESSION_COOKIE_SECURE)
# HSTS is off until asked for: a browser that saw it refuses plain HTTP for that long, so it is
# turned on once HTTPS works, and left to the proxy where the proxy already sends it.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
# Where the proxy sends Strict-Transport-Security itself, the board sends none, and the deploy
# check's warning about HSTS being off here (security.W004, and only that one) is silenced.
SECURE_HSTS_BY_PROXY = env_bool("SECURE_HSTS_BY_PROXY", False)
if SECURE_HSTS_BY_PROXY and SECURE_HSTS_SECONDS:
    raise ConfigurationError(
        "SECURE_HSTS_BY_PROXY=true and SECURE_HSTS_SECONDS set: HSTS comes from the proxy or "
        "from the board, not both; leave SECURE_HSTS_SECONDS unset where the proxy sends it"
    )
SILENCED_SYSTEM_CHECKS = ["security.W004"] if SECURE_HSTS_BY_PROXY else []
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# Only behind a proxy that sets (and overwrites) X-Forwarded-Proto; otherwise clients could claim
# HTTPS themselves.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("SECURE_PROXY_SSL_HEADER", False) else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The signaling URL is checked at start whether DEBUG is on or not: browsers get it, and the
# policy carries it (board/csp.py says what is refused).
try:
    CONTENT_SECURITY_POLICY = content_security_policy(signaling_url=WATERCOOLER_SIGNALING_URL)
except ValueError as exc:
    raise ConfigurationError(f"WATERCOOLER_SIGNALING_URL: {exc}") from exc
if DEBUG:
    CONTENT_SECURITY_POLICY = ""

# Request counts of the throttles and login pages are rows in the database (board.limits).
# Proxies in front of gunicorn: the client address is the X-Forwarded-For entry the nearest adds.
NUM_PROXIES = env_int("NUM_PROXIES", 0)
WATERCOOLER_THROTTLE_RATES = {
    "token-address": env_rate("THROTTLE_TOKEN_PER_ADDRESS", "20/minute"),
    "token-username": env_rate("THROTTLE_TOKEN_PER_USERNAME", "10/minute"),
    "writes": env_rate("THROTTLE_WRITES_PER_USER", "300/minute"),
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PARSER_CLASSES": [
        "board.scrum.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "board.scrum.api_errors.handle_exception",
    "DEFAULT_PAGINATION_CLASS": "board.scrum.pagination.BoardPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "board.scrum.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["board.scrum.throttles.WriteThrottle"],
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        *(["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    ],
}

# Everything on stderr, one line per record in signaling's format (human, or JSON lines): the
# board's own loggers, and Django's warnings and errors. django.request at ERROR: its 4xx warnings
# are the API's ordinary answers (gunicorn's access log has them); its errors are 500s, with the
# traceback.
LOG_FORMAT = env_choice("LOG_FORMAT", "human", {"human", "json"})
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"lines": {"()": "board.logs.LineFormatter", "json": LOG_FORMAT == "json"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "lines"}},
    "loggers": {
        "board": {
            "handlers": ["stderr"],
            "level": os.environ.get("LOG_LEVEL", "INFO"),
            "propagate": False,
        },
        "django": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        "django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
    },
}
