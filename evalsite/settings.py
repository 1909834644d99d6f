"""Settings for the evaluation platform, driven by environment variables.

With no variables set the platform runs on its *embedded default*: SQLite (WAL) and media under
``var/``, and a Celery broker that is kombu's filesystem transport under ``var/``. A deployment
switches parts on with ``DATABASE_URL``, ``CELERY_BROKER_URL`` and friends (see README.md).
One file, no per-environment modules: what differs between machines is the environment.

Importing it only reads: the folders under ``var/`` and the local secret key are made before
anything starts, by ``evalsite.var_dir.prepare_var_dir`` (the launcher, ``manage.py``, the tests).
A variable with a value of the wrong type raises ImproperlyConfigured naming it (evalsite.env).
"""

import os
import secrets
from pathlib import Path

from celery.app.backends import BACKEND_ALIASES
from django.core.exceptions import ImproperlyConfigured
from kombu.transport import TRANSPORT_ALIASES

from evalsite.env import (
    env_bool,
    env_choice,
    env_database,
    env_float,
    env_int,
    env_list,
    env_match,
    env_str,
    env_url,
)
from evalsite.var_dir import BASE_DIR, SECRET_KEY_FILE_NAME, var_dir

# onnxruntime (Piper, metrics) otherwise writes a device id and a telemetry database under the
# user's home on first import: nothing of ours may write outside var/ or phone home.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

# Everything the platform writes at run time lives under VAR_DIR, so that tests and the demo
# can each use their own copy and "delete var/" is a full reset.
VAR_DIR = var_dir()
DEBUG = env_bool("DEBUG", False)
SECRET_KEY_FILE = VAR_DIR / SECRET_KEY_FILE_NAME


def _secret_key() -> str:
    """SECRET_KEY, else the local key prepare_var_dir made in var/.

    With neither, a DEBUG process or a pytest run (pytest-django reads these settings before any
    conftest could make the file) gets a key of its own: nothing it signs has to outlive it.
    Anything else refuses to start: a key made per process would differ between gunicorn's
    workers and change at each restart, logging everyone out at random.
    """
    if key := env_str("SECRET_KEY"):
        return key
    if SECRET_KEY_FILE.exists() and (key := SECRET_KEY_FILE.read_text().strip()):
        return key
    if DEBUG or "PYTEST_VERSION" in os.environ:  # pytest sets it for the length of a run
        return secrets.token_urlsafe(50)
    raise ImproperlyConfigured(
        f"SECRET_KEY is not set and {SECRET_KEY_FILE} does not exist: set SECRET_KEY, or start "
        "through `python -m evalsite.launcher` or `python manage.py` once, which make that file"
    )


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_NAME = env_str("SITE_NAME", "Listening-test evaluation platform")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",  # API tokens (hashed, revocable, optionally expiring)
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",  # throttles admin logins (see "Security" below)
    "evalsite",  # management commands (ensure_admin, seed_demo) and the health checks
    "synth_workers",
    "mushra",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # turns a locked-out login into a clear 429 page
    "evalsite.i18n.DefaultLanguageMiddleware",  # English unless a listener's page says otherwise
]

ROOT_URLCONF = "evalsite.urls"
WSGI_APPLICATION = "evalsite.wsgi.application"

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
                "evalsite.context_processors.site",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
# SQLite in WAL mode lets the web server read while a worker writes; IMMEDIATE transactions take
# the write lock up front so concurrent writers wait (timeout) instead of failing with
# "database is locked" half-way through a transaction.
# Connections persist (DB_CONN_MAX_AGE seconds, 0 = one per request) and are checked before
# reuse: opening a PostgreSQL connection costs more than a rating's whole transaction, and the
# health check replaces a connection the server dropped instead of failing the request.
SQLITE_PATH = VAR_DIR / "db.sqlite3"
DATABASES = {
    "default": env_database(
        "DATABASE_URL",
        f"sqlite:///{SQLITE_PATH}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
# The listener's audio lookup runs as a server-side prepared statement on PostgreSQL (planning
# it cost more than running it). Behind PgBouncer in transaction mode set this to 0, unless it
# keeps prepared statements (PgBouncer >= 1.21 with max_prepared_statements).
DB_PREPARE_STATEMENTS = env_bool("DB_PREPARE_STATEMENTS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not ":memory:", so that a real worker process can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_db.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
# The listener interface's languages (a test's `language`; mushra.views.listener activates it).
# The scientist side stays English: evalsite.i18n.DefaultLanguageMiddleware resets every request
# to LANGUAGE_CODE, so a language a listener's page activated never leaks into the next request.
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("es", "Español"),
    ("ja", "日本語"),
    ("zh-hans", "简体中文"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]  # .po sources; .mo built by `make` or compile_catalogues
USE_TZ = True

# --- Static and media files -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"  # whitenoise warns at start-up when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or VAR_DIR / "media")
# Media go through the storage API so a deployment can swap in shared or object storage.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"

# --- Celery --------------------------------------------------------------------------------
# Embedded default: kombu's filesystem transport. One folder serves as both "in" and "out" because
# producers and consumers share a machine; "control" holds the fanout table used by worker pings.
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env_url("CELERY_BROKER_URL", "filesystem://", schemes=TRANSPORT_ALIASES)
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # A worker waits up to this long for the next message: 0.2 s cost a short task (one
        # stimulus' metrics, bench/metrics_overhead.py) about 0.1 s each; listing a folder
        # 20 times a second costs nothing measurable.
        "polling_interval": 0.05,
    }
# Results are only used for small replies (health pings, tests); our own tables hold job state.
_default_results = (
    CELERY_BROKER_URL
    if CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
    else f"file://{VAR_DIR / 'celery-results'}"
)
CELERY_RESULT_BACKEND = env_url("CELERY_RESULT_BACKEND", _default_results, schemes=BACKEND_ALIASES)
# The folders these settings use, made by evalsite.var_dir.prepare_var_dir before anything starts.
VAR_FOLDERS = [VAR_DIR, STATIC_ROOT]
if CELERY_BROKER_TRANSPORT_OPTIONS:
    VAR_FOLDERS += [
        Path(CELERY_BROKER_TRANSPORT_OPTIONS[k])
        for k in ("data_folder_in", "processed_folder", "control_folder")
    ]
if CELERY_RESULT_BACKEND.startswith("file://"):
    VAR_FOLDERS.append(Path(CELERY_RESULT_BACKEND.removeprefix("file://")))
CELERY_RESULT_EXPIRES = env_int("CELERY_RESULT_EXPIRES", 3600, minimum=0)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 30 * 60, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 35 * 60, minimum=1)
# Always-eager mode is never used: tests run a real worker.
# A test with more ratings than this has its results analysed by a `cpu` worker, with progress on
# its page (mushra.result_cache); a smaller one inside the request that needs them. 5,000: the
# confirmatory model, 10,000 resamples and the PDF take a few seconds there, a request can wait.
RESULTS_INLINE_MAX_RATINGS = env_int("RESULTS_INLINE_MAX_RATINGS", 5_000, minimum=0)

# --- Health checks ------------------------------------------------------------------------------
# GET /healthz answers everyone with liveness and the database only (no paths, hosts or URLs);
# the full detail (broker, media, a worker per queue) needs a staff session or HEALTH_TOKEN, as
# "Authorization: Bearer <token>" or "?token=<token>". Both answers are cached per process, and
# only one request at a time refreshes one, so polling never piles up worker pings.
HEALTH_TOKEN = env_str("HEALTH_TOKEN")
HEALTH_CACHE_SECONDS = env_float("HEALTH_CACHE_SECONDS", 2.0, minimum=0)
HEALTH_DETAIL_CACHE_SECONDS = env_float("HEALTH_DETAIL_CACHE_SECONDS", 3.0, minimum=0)
HEALTH_WORKER_TIMEOUT = env_float("HEALTH_WORKER_TIMEOUT", 2.0, minimum=0)
HEALTH_BROKER_TIMEOUT = env_float("HEALTH_BROKER_TIMEOUT", 2.0, minimum=0)

# --- Imports and stimulus preparation -------------------------------------------------------------
# Bounds on what one import may bring in (uploads, folders, zips): per file and in total.
IMPORT_MAX_FILE_BYTES = env_int("IMPORT_MAX_FILE_BYTES", 100 * 1024 * 1024, minimum=1)
IMPORT_MAX_TOTAL_BYTES = env_int("IMPORT_MAX_TOTAL_BYTES", 4 * 1024 * 1024 * 1024, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# The preparation policy every imported stimulus gets unless a test asks for another; one policy
# (one sample rate, one loudness target) for all stimuli that are compared.
STIMULUS_POLICY = {
    "sample_rate": env_int("STIMULUS_SAMPLE_RATE", 48000, minimum=8000),
    "target_lufs": env_float("STIMULUS_TARGET_LUFS", -23.0),
    "true_peak_ceiling": env_float("STIMULUS_TRUE_PEAK_CEILING", 0.0),
}

# --- Synthesis workers --------------------------------------------------------------------------
SYNTH_DEVICE = env_match(
    "SYNTH_DEVICE", "auto", r"auto|cpu|cuda(:\d+)?", "auto, cpu, cuda or cuda:N"
)
SYNTH_BATCH_SIZE = env_int("SYNTH_BATCH_SIZE", 8, minimum=1)
SYNTH_MODEL_CACHE_SIZE = env_int(
    "SYNTH_MODEL_CACHE_SIZE", 2, minimum=1
)  # loaded models kept per worker
# Bound on one registered checkpoint file (uploads and paths alike).
SYNTH_MAX_CHECKPOINT_BYTES = env_int(
    "SYNTH_MAX_CHECKPOINT_BYTES", 4 * 1024 * 1024 * 1024, minimum=1
)

# --- Admin account for the demo -----------------------------------------------------------------
ADMIN_USERNAME = env_str("EVALSITE_ADMIN_USER", "scientist")
ADMIN_PASSWORD = env_str("EVALSITE_ADMIN_PASSWORD")

# The API (/api/v1/, evalsite.api): tokens for scripts, the session for the browsable pages.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "evalsite.api.tokens.NamedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "evalsite.api.errors.exception_handler",
}
KNOX_TOKEN_MODEL = "evalsite.ApiToken"
# knox's own migrations would create its unused token table (ours replaces it), and that table's
# key to the users then breaks the flushing of test databases on PostgreSQL.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_TTL": None,  # each token's expiry is chosen when it is made (evalsite.api.tokens)
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "evalsite API",
    "DESCRIPTION": "Projects, systems, corpora, synthesis jobs and listening tests of evalsite.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "evalsite.api.schema.add_error_responses",
    ],
}

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_choice("LOG_LEVEL", "INFO", LOG_LEVELS)},
}

# --- Security (production) ----------------------------------------------------------------------
# HTTPS=1 says the site is served over HTTPS: plain HTTP is redirected, browsers are told to stay
# on HTTPS (HSTS) and cookies are only sent over HTTPS. Behind a proxy that terminates TLS, set
# PROXY_SSL_HEADER to the header it sets (e.g. HTTP_X_FORWARDED_PROTO, value "https"); the proxy
# must strip that header from clients. The embedded default (no variables) stays plain HTTP.
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
# Health probes (load balancer, compose) often speak plain HTTP to the container itself.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
_proxy_header = env_match(
    "PROXY_SSL_HEADER", "", r"(HTTP_[A-Z0-9_]+)?", "a header as Django names it, e.g. HTTP_X_…"
)
if _proxy_header:
    SECURE_PROXY_SSL_HEADER = (_proxy_header, "https")
# Start HSTS short (an hour); raise it to 31536000 (a year) once HTTPS is known to work.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 3600 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
# SECURE_COOKIES=1 alone is the older switch: Secure cookies without redirect or HSTS.
COOKIES_SECURE = HTTPS or (not DEBUG and env_bool("SECURE_COOKIES", False))
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = COOKIES_SECURE
SESSION_COOKIE_HTTPONLY = True
# The CSRF cookie stays readable by scripts: the MUSHRA player sends it back as X-CSRFToken
# (HttpOnly would add nothing there; Django's docs say why).
CSRF_COOKIE_HTTPONLY = False
# The listener's session cookie (set by mushra.views.listener.entry, always HttpOnly) follows
# the others.
LISTENER_COOKIE_SECURE = COOKIES_SECURE

# Logins (the site's and the admin's) are throttled by django-axes: AXES_FAILURE_LIMIT failed
# attempts for one username from one address lock that pair for AXES_COOLOFF_HOURS. Username and
# address together, so that nobody can lock a scientist out from elsewhere; `manage.py
# axes_reset` unlocks early.
# Scientists sign in on the site's own page (they need not be staff; the admin is for operators).
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"  # a scientist starts from their projects
LOGOUT_REDIRECT_URL = "landing"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login before checking it
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_float("AXES_COOLOFF_HOURS", 1.0, minimum=0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "lockout.html"
# Behind PROXY_COUNT reverse proxies REMOTE_ADDR is the nearest proxy's; the client's address is
# then read from X-Forwarded-For, counting from the right (the part clients cannot forge).
PROXY_COUNT = env_int("PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "evalsite.security.client_ip"
