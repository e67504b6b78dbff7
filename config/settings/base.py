"""Settings shared by every environment, read from the environment with django-environ.

With nothing set, Sieve runs on the embedded default: SQLite in the project folder and Celery on kombu's
file-system transport (one worker beside the server, no broker to install). Set DATABASE_URL and REDIS_URL
to run the same code on PostgreSQL, Redis and separate workers.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A .env file beside manage.py is optional; the process environment wins over it.
env.read_env(BASE_DIR / ".env", overwrite=False)

# Runtime state of the embedded default (SQLite file, broker folder, uploads) lives here.
VAR_DIR = Path(env.str("SIEVE_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

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
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "core",
    "reviews",
    "screening",
    "extraction",
    "synthesis",
    "grading",
    "exports",
]

MIDDLEWARE = [
    # Outermost: a database or Redis that is down answers 503 with Retry-After wherever the error is raised.
    "core.middleware.ServiceUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.sieve",
            ],
        },
    },
]


# Database: SQLite beside manage.py unless DATABASE_URL says otherwise.
def _databases() -> dict:
    default = env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'sieve.sqlite3'}")
    engine = default["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        if default["NAME"] != ":memory:":
            Path(default["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        # The web server and the worker write to the same file: wait for the lock instead of failing,
        # take it at the start of a transaction (no upgrade deadlocks) and let readers go on under WAL.
        default.setdefault("OPTIONS", {}).update(
            {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            }
        )
    elif engine in ("django.db.backends.postgresql", "django.db.backends.postgresql_psycopg2"):
        default["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
        default["CONN_HEALTH_CHECKS"] = True
        # A database that is down fails a request within seconds (a 503, core.middleware), not after the
        # operating system's TCP timeout of minutes.
        default.setdefault("OPTIONS", {}).setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5))
    else:
        raise ImproperlyConfigured(
            f"DATABASE_URL must point to PostgreSQL (postgres://…) or SQLite (sqlite:///…), not {engine}."
        )
    return {"default": default}


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "reviews:list"
LOGOUT_REDIRECT_URL = "login"

SIEVE_ALLOW_SIGNUP = env.bool("SIEVE_ALLOW_SIGNUP", default=True)
# The login page names the demo accounts (`make run`'s author1, author2, editor) where they exist.
SIEVE_DEMO_LOGIN_HINT = env.bool("SIEVE_DEMO_LOGIN_HINT", default=False)
# Largest search export accepted, in megabytes.
SIEVE_MAX_IMPORT_MB = env.int("SIEVE_MAX_IMPORT_MB", default=200)
SIEVE_MAX_PDF_MB = env.int("SIEVE_MAX_PDF_MB", default=50)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Uploads: bigger files are streamed to disk.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# E-mail: printed on the console unless EMAIL_URL (smtp+tls://user:password@host:587) is set.
if env.str("EMAIL_URL", default=""):
    globals().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="sieve@localhost")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

SIMPLE_HISTORY_HISTORY_ID_USE_UUID = False

# --- Celery -------------------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_FOLDER = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {
        # Longer than the longest task, so that an unacknowledged task is not delivered twice.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=4 * 3600),
        # How often a worker looks for such messages: every interval x throttle seconds (kombu's defaults, 10 x 10),
        # and once when it starts. The fault tests, with a visibility timeout of seconds, look every second.
        "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
        "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
    }
else:
    # Embedded default: kombu's file-system transport, a folder of message files that the server and the
    # worker started by `make run` share. No broker server to install.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_RESULT_BACKEND = None
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER / "queue"),
        "data_folder_out": str(CELERY_BROKER_FOLDER / "queue"),
        "processed_folder": str(CELERY_BROKER_FOLDER / "processed"),
        # Broadcast (pidbox) messages; kombu's default is ./control in whatever folder the process runs in.
        "control_folder": str(CELERY_BROKER_FOLDER / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
# Nobody reads a task's return value (core.ping's, for operators, excepted): storing it in Redis only adds a way
# to fail while Redis is down (core.tasks.send_on_commit).
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=3 * 3600)
# Run by a worker started with --beat (`make run` and `make worker` do): idempotent catch-up work.
CELERY_BEAT_SCHEDULE = {
    "screening-outcomes-sweep": {"task": "screening.outcomes_sweep", "schedule": env.int("SIEVE_SWEEP_SECONDS", 300)},
    "synthesis-sweep": {"task": "synthesis.sweep", "schedule": env.int("SIEVE_SWEEP_SECONDS", 300)},
    "imports-sweep": {
        "task": "reviews.imports_sweep",
        "schedule": env.int("SIEVE_SWEEP_SECONDS", 300),
        # How long an import may wait or run without a worker before it is queued again (embedded default: the
        # sweep runs in the one worker, so a running import it sees is one a killed worker left).
        "kwargs": {"older_than_seconds": env.int("SIEVE_IMPORT_SWEEP_AFTER_SECONDS", 120)},
    },
}
# A burst of edits within this many seconds is summarised once (the worker waits this long before computing).
SIEVE_SYNTHESIS_DELAY_SECONDS = env.float("SIEVE_SYNTHESIS_DELAY_SECONDS", default=1.0)

# --- Cache: counts of login attempts (core.throttling) -------------------------------------------------------
# With REDIS_URL, Redis, so that every web process shares the counts; on the embedded default the one server
# process's memory (no extra service; the counts restart with the server).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("SIEVE_CACHE_PREFIX", default="sieve"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "sieve"}}

# --- REST API -----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first, so that an anonymous API call gets 401 with a WWW-Authenticate header, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"auth": env.str("SIEVE_AUTH_THROTTLE", default="20/min")},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Sieve API",
    "DESCRIPTION": (
        "Read and write a systematic review: reviews, members and, as Sieve grows, records, decisions, "
        "studies, analyses and judgements. Authenticate with `Authorization: Token <token>` "
        "(POST /api/v1/auth/token/) or a browser session."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
