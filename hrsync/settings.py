"""hrsync settings, read from the environment (django-environ) in the manner of cookiecutter-django.

Every variable is documented in `.env.example`. Defaults are for the zero-setup demo; production sets
`DJANGO_DEBUG=0` and must then give DJANGO_SECRET_KEY and FIELD_ENCRYPTION_KEY.
"""
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
env_file = env.str("HRSYNC_ENV_FILE", default=str(BASE_DIR / ".env"))
if Path(env_file).is_file():
    environ.Env.read_env(env_file)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="hrsync-debug-only-secret-key-never-use-in-production-0123456789")
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")  # required: raises ImproperlyConfigured when missing

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])

# The public https address of the app; handler URLs registered in portals are built from it.
APP_BASE_URL = env.str("APP_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",  # the operator's tools: console users and the portals they may open
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",  # the console's sign-in (the frame pages carry their own session)
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "hrsync",
    "bitrix_app",
    "payroll_connector",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (the admin's) from the app itself, compressed and cached forever by their hashed names.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Pages shown inside the portal's frame opt out per view (bitrix_app.frame); everything else is DENY.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hrsync.urls"
WSGI_APPLICATION = "hrsync.wsgi.application"

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
            ],
        },
    }
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'hrsync.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The demo's page and its worker share one SQLite file: a writer waits for the other instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", "Русский"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Europe/Moscow"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Manifest storage needs collectstatic (the Dockerfile runs it); DEBUG and the tests serve files as they are.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage" if not DEBUG and
                    env.bool("HRSYNC_STATIC_MANIFEST", default=True) else "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Security -----------------------------------------------------------------------------------
# Behind a TLS-terminating proxy (the usual deployment) the proxy sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
# The in-portal pages live in a third-party iframe where browsers drop cookies, so nothing relies on
# them (see bitrix_app.frame); the few cookies Django may set are still locked down.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
X_FRAME_OPTIONS = "DENY"
# The console outside the portal frame: Django's own sign-in, no self-registration.
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:portals"
LOGOUT_REDIRECT_URL = "console:login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("CONSOLE_SESSION_AGE", default=8 * 3600)  # a working day

# Fernet keys, comma-separated: the first encrypts, all decrypt (MultiFernet), so a key is rotated by
# putting the new one first and running `manage.py rotate_encryption_keys`.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEY", default=[])
if not FIELD_ENCRYPTION_KEYS and not DEBUG:
    raise environ.ImproperlyConfigured("Set the FIELD_ENCRYPTION_KEY environment variable")

# --- Bitrix24 -----------------------------------------------------------------------------------
BITRIX_CLIENT_ID = env.str("BITRIX_CLIENT_ID", default="")
BITRIX_CLIENT_SECRET = env.str("BITRIX_CLIENT_SECRET", default="")
# The token endpoint normally lives on the host of the portal's server_endpoint
# (oauth.bitrix.info / oauth.bitrix24.tech); this forces one URL for every portal.
BITRIX_OAUTH_TOKEN_URL = env.str("BITRIX_OAUTH_TOKEN_URL", default="")
# OAuth hosts the app trusts with its client secret. An install POST naming another server_endpoint is
# refused: otherwise anyone could make the app send its secret to a host of their choosing.
BITRIX_OAUTH_SERVER_HOSTS = env.list("BITRIX_OAUTH_SERVER_HOSTS", default=["oauth.bitrix.info", "oauth.bitrix24.tech"])
# BX24 JS library the frame pages load; the sandbox portal serves a stand-in for offline runs.
BITRIX_JS_SDK_URL = env.str("BITRIX_JS_SDK_URL", default="//api.bitrix24.com/api/v1/")
# Plain-http OAuth is refused (oauthlib's rule) except against the loopback sandbox in the demo and tests.
BITRIX_ALLOW_HTTP = env.bool("BITRIX_ALLOW_HTTP", default=False)
if BITRIX_ALLOW_HTTP:
    import os

    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
# Incoming webhooks go over https; these hosts (an on-premise portal inside a trusted network) may use http.
# Hosts reached over plain http (an incoming webhook or an on-premise portal inside the company's network);
# everything else needs https. Named one by one: there is no wildcard.
BITRIX_PLAIN_HTTP_HOSTS = env.list("BITRIX_PLAIN_HTTP_HOSTS", default=env.list("BITRIX_WEBHOOK_HTTP_HOSTS", default=[]))
BITRIX_HTTP_TIMEOUT = env.float("BITRIX_HTTP_TIMEOUT", default=30.0)  # one cloud request may run 60 s
BITRIX_HTTP_CONNECT_TIMEOUT = env.float("BITRIX_HTTP_CONNECT_TIMEOUT", default=5.0)
# Retries of calls the portal refused before running them (503 QUERY_LIMIT_EXCEEDED, connect errors).
BITRIX_MAX_RETRIES = env.int("BITRIX_MAX_RETRIES", default=5)
# The time budget per method (bitrix_app/client/budget.py). The portal's limit: 480 s of server time per
# method per 10 minutes in the docs' limits.md (the module's own default is 420, rest_load_limiter_seconds sets
# it in the cloud: UNCONFIRMED per portal, hence a setting); what the app keeps free of it; the window; the
# ban a method gets past the limit (LoadLimiter::BAN_DURATION, 300 s).
BITRIX_OPERATING_LIMIT = env.float("BITRIX_OPERATING_LIMIT", default=480.0)
BITRIX_OPERATING_MARGIN = env.float("BITRIX_OPERATING_MARGIN", default=10.0)
BITRIX_OPERATING_WINDOW = env.float("BITRIX_OPERATING_WINDOW", default=600.0)
BITRIX_OPERATING_BAN = env.float("BITRIX_OPERATING_BAN", default=300.0)
# Longest wait (the time budget's, or the request bucket's) a call sleeps through; a longer one ends the call
# with the time to come back: a sync run then pauses and its continuation is scheduled, freeing the worker.
BITRIX_MAX_OPERATING_WAIT = env.float("BITRIX_MAX_OPERATING_WAIT", default=10.0)
# In-portal page sessions: they lapse after FRAME_SESSION_IDLE seconds unused, and after FRAME_SESSION_MAX_AGE
# at most (the AUTH_ID a change is rechecked with lives an hour, reference §2).
FRAME_SESSION_IDLE = env.int("FRAME_SESSION_IDLE", default=900)
FRAME_SESSION_MAX_AGE = env.int("FRAME_SESSION_MAX_AGE", default=3600)
# How long an administrator's right, asked of Bitrix24, is trusted before a change asks again.
FRAME_ADMIN_RECHECK_SECONDS = env.int("FRAME_ADMIN_RECHECK_SECONDS", default=60)

# --- 1C:ZUP --------------------------------------------------------------------------------------
PAYROLL_HTTP_TIMEOUT = env.float("PAYROLL_HTTP_TIMEOUT", default=120.0)  # a large page of 1C can take a while
PAYROLL_HTTP_CONNECT_TIMEOUT = env.float("PAYROLL_HTTP_CONNECT_TIMEOUT", default=10.0)
PAYROLL_ODATA_PAGE_SIZE = env.int("PAYROLL_ODATA_PAGE_SIZE", default=5000)
# Largest push package; a larger snapshot is sent in parts.
PAYROLL_MAX_PACKAGE_BYTES = env.int("PAYROLL_MAX_PACKAGE_BYTES", default=25 * 1024 * 1024)
# Department heads: ZUP 3.1 keeps them in a register periodic by day whose resource is a person
# (InformationRegisters/ПодразделенияОрганизацииРуководители.xml, scriperirkth/zup-structure, RU 3.1.38);
# the entity set and its two fields are settings. When the set is not published, heads are left empty.
# A КОРП base that keeps heads as staff positions (ПозицииРуководителейПодразделений) sets
# PAYROLL_ODATA_HEADS_SOURCE=staff_positions: the head is whoever holds that position today.
PAYROLL_ODATA_HEADS_SOURCE = env.str("PAYROLL_ODATA_HEADS_SOURCE", default="organisation_heads")
PAYROLL_ODATA_HEADS_ENTITY = env.str("PAYROLL_ODATA_HEADS_ENTITY",
                                     default="InformationRegister_ПодразделенияОрганизацииРуководители")
PAYROLL_ODATA_HEADS_DEPARTMENT_FIELD = env.str("PAYROLL_ODATA_HEADS_DEPARTMENT_FIELD", default="Подразделение_Key")
PAYROLL_ODATA_HEADS_PERSON_FIELD = env.str("PAYROLL_ODATA_HEADS_PERSON_FIELD", default="Руководитель_Key")

# Seconds a sync's (or outbox delivery's) lease lives without renewal. A heartbeat renews it every third
# of that while the work runs, so this is how soon a killed worker's portal frees, not a limit on a step.
HRSYNC_LEASE_TTL = env.int("HRSYNC_LEASE_TTL", default=30)
# How often beat looks for runs whose worker died (lease lapsed) and resumes them.
HRSYNC_RESUME_SECONDS = env.int("HRSYNC_RESUME_SECONDS", default=15)
# Days that runs with their journals, and processed push packages, are kept (152-ФЗ: no longer than needed).
HRSYNC_RETENTION_DAYS = env.int("HRSYNC_RETENTION_DAYS", default=90)
# A processed push package starts a sync of its portal at once.
HRSYNC_SYNC_AFTER_PACKAGE = env.bool("HRSYNC_SYNC_AFTER_PACKAGE", default=True)
# A run that has held its worker this long gives it back when other tasks wait in the queue (it pauses and
# is continued behind them): one large portal does not hold up the others (0: never).
HRSYNC_RUN_SLICE_SECONDS = env.float("HRSYNC_RUN_SLICE_SECONDS", default=60.0)
# A run for a pushed change reads and plans only the people it touched, up to this many (more: the whole).
HRSYNC_SCOPED_RUN_MAX_PEOPLE = env.int("HRSYNC_SCOPED_RUN_MAX_PEOPLE", default=200)

# --- Redis, Celery ------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
# The demo's broker, which needs no server: messages are files in one folder (kombu's filesystem transport),
# so the demo's worker runs the tasks and the pages follow their progress as in production.
CELERY_FILESYSTEM_BROKER_DIR = env.str("CELERY_FILESYSTEM_BROKER_DIR", default="")
if CELERY_FILESYSTEM_BROKER_DIR:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": CELERY_FILESYSTEM_BROKER_DIR,
                                       "data_folder_out": CELERY_FILESYSTEM_BROKER_DIR,
                                       "processed_folder": CELERY_FILESYSTEM_BROKER_DIR, "store_processed": False,
                                       # (kombu's default is a "control" folder in the working directory)
                                       "control_folder": str(Path(CELERY_FILESYSTEM_BROKER_DIR) / "control")}
# Without a broker tasks run in the calling process.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not (
    REDIS_URL or env.str("CELERY_BROKER_URL", default="") or CELERY_FILESYSTEM_BROKER_DIR))
CELERY_TASK_DEFAULT_QUEUE = "celery"  # (Celery's own default, named: a long run looks at its length)
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the task for another
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    # A refresh token dies after 180 days unused (reference §2); a weekly app.info keeps every
    # portal's pair alive and its plan (rate limit) and install state current.
    "bitrix-keep-portals-alive": {"task": "bitrix_app.tasks.keep_portals_alive", "schedule": 7 * 24 * 3600},
    # Each portal runs on its own schedule (PayrollConnection.schedule_minutes); this only looks who is due.
    "hrsync-schedule-due-syncs": {"task": "hrsync.tasks.schedule_due_syncs", "schedule": 60},
    # A crashed run is resumed within TTL + this, not at the next scheduled sync.
    "hrsync-resume-interrupted-runs": {"task": "hrsync.tasks.resume_interrupted_runs",
                                       "schedule": HRSYNC_RESUME_SECONDS},
    # Requests to ZUP: retried every minute while ZUP is down (each item with its own backoff).
    "hrsync-process-outboxes": {"task": "hrsync.tasks.process_all_outboxes", "schedule": 60},
    "hrsync-collect-overtime": {"task": "hrsync.tasks.collect_all_overtime", "schedule": 24 * 3600},
    "hrsync-delete-uninstalled-portals": {"task": "hrsync.tasks.delete_uninstalled_portals", "schedule": 60},
    "hrsync-prune-history": {"task": "hrsync.tasks.prune_old_history", "schedule": 24 * 3600},
}
# The shared rate limiter: Redis when there is one (all workers pace together), else per process.
RATE_LIMITER = env.str("RATE_LIMITER", default="redis" if REDIS_URL else "local")
# /health/ and /metrics name the portals served: with a token set they need `Authorization: Bearer <token>`.
HRSYNC_OPS_TOKEN = env.str("HRSYNC_OPS_TOKEN", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_secrets": {"()": "hrsync.logging.MaskSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_secrets"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"urllib3": {"level": "WARNING"}},
}
