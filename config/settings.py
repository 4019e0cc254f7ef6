"""Loopwise settings: everything comes from the environment (see README)."""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Core ---------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug-mode-never-deploy-this-one"  # noqa: S105
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "tracker",
]

MIDDLEWARE = [
    "tracker.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lockout into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# Our pages (templates/) render with Jinja2, several times faster than Django's engine on the
# hot pages; the request, csrf_input and csrf_token come from the backend itself. Django's
# engine is left for the admin, DRF, django-filter and form widgets: it finds nothing in
# templates/, so a page can never silently render with the wrong engine.
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "tracker.web.jinja.environment",
            "context_processors": [
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tracker.web.context.navigation",
            ],
        },
    },
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# Form widgets render with Django's own Jinja2 widget templates: through its template
# engine a form of four fields took 3.5 ms of a 6 ms page shell.
FORM_RENDERER = "django.forms.renderers.Jinja2"

# --- Database -----------------------------------------------------------------------------
# SQLite in the project folder is the embedded default; PostgreSQL through DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
        # PgBouncer in transaction mode cannot keep a server-side cursor (QuerySet.iterator())
        # open across transactions: set DB_DISABLE_SERVER_SIDE_CURSORS=1 behind one.
        disable_server_side_cursors=env_bool("DB_DISABLE_SERVER_SIDE_CURSORS", False),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default: an import's thread writes while requests do; wait for the lock.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("timeout", 20)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A session left idle inside a transaction holds the change feed back (readers serve
    # only what lies below the oldest open transaction): end such sessions after this long.
    idle = env_int("DB_IDLE_IN_TRANSACTION_TIMEOUT", 120)
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = f"-c idle_in_transaction_session_timeout={idle * 1000}"
# Covering indexes (INCLUDE) are for PostgreSQL; SQLite builds them on their key columns
# alone, which is all the embedded default needs.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery ---------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    # Fail soft (tracker.cache): while Redis is down the cache is bypassed (reads miss, writes
    # do nothing) and the API limiter counts per process; short socket timeouts keep a dead
    # or unreachable Redis to milliseconds, and it is tried again every RETRY_AFTER seconds.
    CACHES = {
        "default": {
            "BACKEND": "tracker.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "loopwise",
            "OPTIONS": {
                "socket_connect_timeout": env_int("REDIS_CACHE_CONNECT_TIMEOUT_MS", 200) / 1000,
                "socket_timeout": env_int("REDIS_CACHE_TIMEOUT_MS", 500) / 1000,
                "RETRY_AFTER": env_int("REDIS_CACHE_RETRY_AFTER", 2),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Without a broker every task runs eagerly in-process, so the two-command demo needs nothing.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
# A message is acknowledged only after its task finished, and given back to the queue when
# the worker process dies, so a killed worker's task runs again elsewhere. Tasks are
# idempotent (they claim their TaskRecord row in the effect's transaction), so that is safe.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60)
CELERY_RESULT_EXPIRES = env_int("CELERY_RESULT_EXPIRES", 24 * 3600)
# An unacknowledged message is redelivered after this long; it must exceed the longest
# task (the time limit) and the longest countdown, or a slow task would run twice at once.
# Workers look for such messages every interval × throttle seconds (kombu's defaults: 10 × 10).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 2 * 3600),
    "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10),
    "unacked_restore_throttle": env_int("CELERY_UNACKED_RESTORE_THROTTLE", 10),
}
# Publishing to a broker that is down fails fast: the TaskRecord stays pending for the sweeper.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_CONNECTION_TIMEOUT = env_int("CELERY_BROKER_CONNECTION_TIMEOUT", 3)
# After a failed send, requests leave their work to the sweeper for this long instead of
# each waiting out the publish retries (tracker.services.dispatch.broker_resting).
BROKER_BACKOFF_SECONDS = env_int("BROKER_BACKOFF_SECONDS", 5)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "interactive"
CELERY_TASK_QUEUES_NAMES = ("interactive", "bulk", "feed")
CELERY_TASK_CREATE_MISSING_QUEUES = True
# `interactive`: what a user waits for (suggestions, notifications, webhooks, the sweeper);
# `bulk`: long jobs (imports, re-indexing, roll-ups) that must not hold up the first queue.
CELERY_TASK_ROUTES = {
    "tracker.import_run_task": {"queue": "bulk"},
    "tracker.similarity_reindex_task": {"queue": "bulk"},
    "tracker.metrics_rollup_task": {"queue": "bulk"},
    "tracker.burndown_snapshot_task": {"queue": "bulk"},
    "tracker.feed_consume_task": {"queue": "feed"},
    "tracker.feed_prune_task": {"queue": "bulk"},
}
CELERY_TIMEZONE = "UTC"
CELERY_TASK_TRACK_STARTED = True
CELERY_WORKER_SEND_TASK_EVENTS = False
# Retries of temporary errors (database or broker hiccups): exponential backoff with jitter,
# bounded; see tracker.tasks.base.LoopwiseTask.
LOOPWISE_TASK_MAX_RETRIES = env_int("LOOPWISE_TASK_MAX_RETRIES", 6)
LOOPWISE_TASK_RETRY_BACKOFF_MAX = env_int("LOOPWISE_TASK_RETRY_BACKOFF_MAX", 10 * 60)
# The sweeper re-sends pending work older than this, and sent work no worker finished after
# RESEND_AFTER (longer than a normal queue wait, shorter than a user's patience).
DISPATCH_SWEEP_MIN_AGE = env_int("DISPATCH_SWEEP_MIN_AGE", 30)
DISPATCH_RESEND_AFTER = env_int("DISPATCH_RESEND_AFTER", 15 * 60)
DISPATCH_KEEP_DONE_DAYS = env_int("DISPATCH_KEEP_DONE_DAYS", 7)
CELERY_BEAT_SCHEDULE = {
    "dispatch-sweep": {"task": "tracker.dispatch_sweep_task", "schedule": 60.0},
    "burndown-snapshot": {"task": "tracker.burndown_snapshot_task", "schedule": 6 * 3600.0},
    "metrics-rollup": {"task": "tracker.metrics_rollup_task", "schedule": 24 * 3600.0},
    "untriaged-reminders": {"task": "tracker.untriaged_reminders_task", "schedule": 24 * 3600.0},
    "idempotency-cleanup": {"task": "tracker.idempotency_cleanup_task", "schedule": 3600.0},
    "feed-prune": {"task": "tracker.feed_prune_task", "schedule": 24 * 3600.0},
}
# The change feed (tracker.feed): how long changes are kept (an older sync cursor answers
# 410 "resync"), how many changes a consumer handles per transaction, and how many batches
# one consumer task takes before it queues itself again behind other workspaces' work.
FEED_RETENTION_DAYS = env_int("FEED_RETENTION_DAYS", 30)
FEED_CONSUMER_BATCH = env_int("FEED_CONSUMER_BATCH", 500)
FEED_TASK_MAX_PASSES = env_int("FEED_TASK_MAX_PASSES", 20)
# Imports: uploads are stored in the database in chunks so any worker host can read them.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 512 * 1024 * 1024)
IMPORT_BATCH_SIZE = env_int("IMPORT_BATCH_SIZE", 2000)
IMPORT_MAX_REPORTED_ERRORS = 200
# Without a broker (the embedded default) an upload answers at once and its import runs in
# a thread of the web process, so the job page shows progress; tests run it inline.
IMPORT_THREAD_WHEN_EAGER = env_bool("IMPORT_THREAD_WHEN_EAGER", True)
# A preview of a file up to this size is read while the upload waits; a larger one in the
# background (the job page shows it when it is ready).
IMPORT_PREVIEW_INLINE_BYTES = env_int("IMPORT_PREVIEW_INLINE_BYTES", 8 * 1024 * 1024)
# A preview nobody starts or cancels is deleted (with its stored file) after this long.
IMPORT_PREVIEW_TTL_HOURS = env_int("IMPORT_PREVIEW_TTL_HOURS", 24)
# Webhooks: each attempt times out, failures retry with backoff, then the delivery fails.
WEBHOOK_TIMEOUT = env_int("WEBHOOK_TIMEOUT", 10)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8)
WEBHOOK_RETRY_BASE = env_int("WEBHOOK_RETRY_BASE", 30)
UNTRIAGED_REMINDER_DAYS = env_int("UNTRIAGED_REMINDER_DAYS", 7)
IDEMPOTENCY_KEY_TTL_HOURS = env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24)

# --- Auth ---------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses logins while an account or IP is locked out
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling: 5 failures lock that username, and separately that IP, for 15 minutes.
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# How many reverse proxies in front of us append to X-Forwarded-For. Client addresses (for
# login lockout, API throttles and the public form's limit) are read that many hops from
# the right; with 0, REMOTE_ADDR, because a client can write any X-Forwarded-For it likes.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT
# A page that says what happened and for how long, instead of axes' one bare sentence.
AXES_LOCKOUT_TEMPLATE = "tracker/locked_out.html"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "tracker" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- E-mail -------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "sent-mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Loopwise <loopwise@localhost>")

# --- Security (on by default whenever DEBUG is off) ---------------------------------------
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# Scripts only from our own origin: no inline scripts or handlers anywhere in the UI.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024)

# --- REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["tracker.api.filters.FilterBackend"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tracker.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["tracker.api.throttling.ApiRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "token": env_str("API_RATE_TOKEN", "1200/min"),
        "user": env_str("API_RATE_USER", "1200/min"),
        "anon": env_str("API_RATE_ANON", "60/min"),
    },
    # DRF's default (None) takes the client's own X-Forwarded-For: forged, it resets the
    # anonymous throttle at will.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "EXCEPTION_HANDLER": "tracker.api.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Largest request body the API accepts (413 above it); a batch of 1,000 items fits easily.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 5 * 1024 * 1024)
SPECTACULAR_SETTINGS = {
    # Swagger UI served from our own static files, so the docs page obeys the CSP.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "TITLE": "Loopwise API",
    "DESCRIPTION": (
        "Sync backlog items, feedback and customers with Loopwise. Authenticate with "
        "`Authorization: Bearer <token>` (tokens: `python manage.py create_token` or /tokens/). "
        "Every error has the shape {code, message, fields}."
    ),
    "VERSION": "1.0.0",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "ItemKindEnum": "tracker.models.ItemKind",
        "CustomerKindEnum": "tracker.models.CustomerKind",
        "StatusEnum": "tracker.models.ItemStatus",  # its name before other status enums existed
        "ImportKindEnum": "tracker.models.ImportKind",
        "ImportStatusEnum": "tracker.models.ImportStatus",
        "DeliveryStatusEnum": "tracker.models.DeliveryStatus",
    },
}

# --- Logging ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # RequestLogMiddleware writes one line per request; Django's own would repeat it.
        "django.server": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
