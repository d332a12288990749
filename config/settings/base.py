"""Settings shared by every environment. Values that vary come from config.env."""

from datetime import timedelta

from config import env

BASE_DIR = env.BASE_DIR

SECRET_KEY = env.raw("SECRET_KEY") or "dev-only-insecure-key-never-use-in-production"
DEBUG = env.boolean("DEBUG", False)
ALLOWED_HOSTS = env.string_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
SITE_URL = env.url("SITE_URL", "http://127.0.0.1:8000")
CSRF_TRUSTED_ORIGINS = env.string_list("CSRF_TRUSTED_ORIGINS", [SITE_URL])

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
    "drf_spectacular_sidecar",  # Swagger UI's files, served by the app (no CDN)
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "bootstrap",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "accounts",
    "customers",
    "outbox",
    "surveys",
    "followups",
    "insights",
    "integrations",
]

MIDDLEWARE = [
    "config.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.errors.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "accounts.twofactor.TwoFactorMiddleware",
    "accounts.permissions.RoleMiddleware",
    "accounts.zones.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "accounts.audit.AuditMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "accounts.context_processors.navigation",
            ],
            "builtins": ["config.components"],
        },
    },
]

DATABASES = {"default": env.database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# PostgreSQL prepares the few hot statements (config.db.bound_cursor, outbox._Marks): parsing and
# planning the answer's two was about half of PostgreSQL's time per answer. Off behind PgBouncer in
# transaction mode before 1.21 (docs/SCALING.md runs it in session mode).
DATABASE_PREPARED_STATEMENTS = env.boolean("DATABASE_PREPARED_STATEMENTS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"

# Login protection (django-axes): after LOGIN_FAILURE_LIMIT failures for one account, or from one
# client IP, logins from there wait LOGIN_COOLOFF_MINUTES. Admins unlock on the Staff page.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "accounts.backends.TeamModelBackend"]
AXES_FAILURE_LIMIT = env.integer("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env.integer("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "username"  # Django's login form calls the email field "username"
AXES_USERNAME_CALLABLE = "accounts.twofactor.login_username"
AXES_CLIENT_IP_CALLABLE = "config.clientip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# How long the staff audit trail is kept (days; 0 keeps it for ever), and after how many months
# verbatims and contact details are anonymised (0: never). Both run in the accounts tick.
AUDIT_RETENTION_DAYS = env.integer("AUDIT_RETENTION_DAYS", 730)
DATA_RETENTION_MONTHS = env.integer("DATA_RETENTION_MONTHS", 0)

# Two-factor sign-in (django-otp, TOTP): optional per user; an Admin can require it for all staff.
OTP_TOTP_ISSUER = env.string("OTP_ISSUER", "Rebound")

# Content-Security-Policy (django-csp): nothing inline, nothing from elsewhere, never framed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.timezone("TIME_ZONE", "UTC")
# How ARR and other amounts are labelled (an ISO code or a symbol); amounts are stored without one.
CURRENCY = env.string("CURRENCY", "USD")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = BASE_DIR / "var" / "media"
MEDIA_URL = "media/"

# Uploads: the CSV import accepts files up to 10 MB; Django streams larger bodies to disk.
CUSTOMER_IMPORT_MAX_BYTES = 10 * 1024 * 1024
CUSTOMER_IMPORT_MAX_ROWS = 200_000
# Surveys go out inside each program's send window in the recipient's time zone: the contact's own,
# else their account region's (below; a region may also be a zone name itself), else the program's.
REGION_TIME_ZONES = {
    "EMEA": "Europe/Berlin", "Europe": "Europe/Berlin", "DACH": "Europe/Berlin", "UK": "Europe/London",
    "UK&I": "Europe/London", "Nordics": "Europe/Stockholm", "North America": "America/New_York",
    "NA": "America/New_York", "NAMER": "America/New_York", "US": "America/New_York", "US East": "America/New_York",
    "US West": "America/Los_Angeles", "Canada": "America/Toronto", "LATAM": "America/Sao_Paulo",
    "APAC": "Asia/Singapore", "ANZ": "Australia/Sydney", "Australia": "Australia/Sydney", "Japan": "Asia/Tokyo",
    "India": "Asia/Kolkata", "Middle East": "Asia/Dubai",
}  # fmt: skip
# A full export (every customer's personal data) is deleted this many days after it was written.
EXPORT_KEEP_DAYS = env.integer("EXPORT_KEEP_DAYS", 7)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Email. Every call to a mail server has a timeout (EMAIL_TIMEOUT, or ?timeout= in EMAIL_URL).
DEFAULT_FROM_EMAIL = env.string("DEFAULT_FROM_EMAIL", "Rebound <nps@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.integer("EMAIL_TIMEOUT", 30)
vars().update(env.email("EMAIL_URL", "smtp://localhost:25"))
# The outbox (outbox/services.py): a sender holds the rows it claimed for this long unless it renews
# the lease; a dead sender's rows go back to the queue at the first tick after it runs out.
OUTBOX_LEASE_SECONDS = env.integer("OUTBOX_LEASE_SECONDS", 60)
# A send task works this long, then hands over to a fresh one (so workers can restart between).
OUTBOX_DRAIN_SECONDS = env.integer("OUTBOX_DRAIN_SECONDS", 60)
# Send tasks the tick asks for when mail is due: match the processes consuming the "sends" queue.
OUTBOX_SENDERS = env.integer("OUTBOX_SENDERS", 2)
# django-anymail tracking webhooks (bounces, complaints, unsubscribes) at /webhooks/mail/<esp>/tracking/,
# with HTTP basic auth "user:password". Without it the endpoints are off.
ANYMAIL_WEBHOOK_SECRET = env.string("ANYMAIL_WEBHOOK_SECRET", "")
if ANYMAIL_WEBHOOK_SECRET:
    ANYMAIL = {**vars().get("ANYMAIL", {}), "WEBHOOK_SECRET": ANYMAIL_WEBHOOK_SECRET}

# Redis: Celery broker and cache. Without it, kombu's filesystem transport and a local cache.
REDIS_URL = env.redis_url("REDIS_URL")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CACHES = {"default": env.redis_cache(REDIS_URL)}
    # Publishing must not hang on a Redis that stopped answering (the tick catches up later).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_timeout": 5, "socket_connect_timeout": 2}
else:
    _broker_dir = BASE_DIR / "var" / "broker"
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(BASE_DIR / "var" / "cache"),
        }
    }

# Customer pages: rate limits (config/ratelimit.py, counted in the cache) per link and per client IP.
# If the cache is down they fail open with a logged warning: an answer is never refused for it.
# Behind reverse proxies, list them in TRUSTED_PROXIES: the client IP is then read from
# X-Forwarded-For (config/clientip.py); otherwise every visitor would share the proxy's bucket.
TRUSTED_PROXIES = env.networks("TRUSTED_PROXIES")
ANSWER_RATE_PER_TOKEN = env.rate("ANSWER_RATE_PER_TOKEN", "10/m")
# The REST API: requests per API token (429 with Retry-After beyond it).
API_RATE_PER_TOKEN = env.rate("API_RATE_PER_TOKEN", "600/m")
ANSWER_RATE_PER_IP = env.rate("ANSWER_RATE_PER_IP", "60/m")
PUBLIC_RATE_PER_IP = env.rate("PUBLIC_RATE_PER_IP", "120/m")
# Answers from a program's shared link, per client address (a kiosk answers many from one address).
LINK_RATE_PER_IP = env.rate("LINK_RATE_PER_IP", "120/h")
# /widget/demo/: a pretend host app with the in-app widget embedded (on in development only).
WIDGET_DEMO = env.boolean("WIDGET_DEMO", False)
# Counting is exact on Redis (atomic increments); the embedded file cache is close enough for one
# machine in development.

CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / "var" / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Django's LOGGING configures the worker's logs too (Celery's own root handler printed every line twice).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Queues by kind of work, so that each gets its own workers and one kind never waits behind another
# (docs/SCALING.md). `make run` consumes them all with one worker; docker-compose.yml splits them.
#   sends      all mail, and outgoing webhooks: a slow or dead receiver blocks only these
#   answers    what follows a customer's answer: follow-up tasks, their emails, theme tags
#   ticks      the scheduler's periodic passes (short; they queue the real work elsewhere)
#   analytics  re-tagging after taxonomy edits, decline alerts, full exports (long scans)
#   default    imports, password resets, the rest
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "outbox.tasks.send_due": {"queue": "sends"},
    "integrations.tasks.deliver_due": {"queue": "sends"},
    "surveys.tasks.route_responses": {"queue": "answers"},
    "*.tasks.tick": {"queue": "ticks"},
    "insights.tasks.*": {"queue": "analytics"},
    "integrations.tasks.run_export": {"queue": "analytics"},
}
CELERY_ALL_QUEUES = "default,sends,answers,ticks,analytics"
TICK_INTERVAL = timedelta(seconds=env.integer("TICK_SECONDS", 60))

# What happens to a customer's answer after it is stored, in this order (surveys.answers runs them
# after the commit, in the worker; each is called with response= and previous_category=).
RESPONSE_CONSUMERS = [
    "surveys.answers.latest_answer_record",  # each contact's latest relationship answer, for account figures
    "followups.services.route_response",  # tasks per category: recovery, check-in, referral, advocacy
    "insights.services.response_tag_consumer",  # theme tags of the reason and the suggestion
    "integrations.webhooks.response_consumer",  # response.created / response.updated webhooks
]
# How verbatims become vectors (insights.vectors): "auto" (WordLlama when the AI extra is installed,
# else word stems), "words" or "wordllama". Nothing is downloaded; no text leaves the machine.
INSIGHTS_EMBEDDINGS = env.raw("INSIGHTS_EMBEDDINGS") or "auto"
# After a survey history import (surveys/history.py): tag the imported verbatims with themes.
HISTORY_IMPORTED_HOOKS = ["insights.services.retag_soon"]
# Who hears of domain events (config/events.py): signed outgoing webhooks.
EVENT_SINKS = ["integrations.webhooks.event_emit"]
# Webhooks go to public HTTPS addresses only, unless this allows http and private ones (an intranet receiver).
WEBHOOK_ALLOW_PRIVATE = env.boolean("WEBHOOK_ALLOW_PRIVATE", False)
# segment -> the hours within which the thank-you page promises a Detractor a call (the SLA policy)
ANSWER_PROMISE = "followups.services.detractor_promise"
# The tone of what a customer wrote, read as the answer is saved (surveys.answers.text_sentiment); the
# follow-up routing opens a check-in for a promoter whose words read negative.
RESPONSE_SENTIMENT = "insights.text.sentiment"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated", "accounts.permissions.HasRole"],
    "DEFAULT_PARSER_CLASSES": ["config.parsers.SafeJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["config.throttling.TokenRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.Cursor",
    "PAGE_SIZE": 50,
}

# The API's OpenAPI 3 document (/api/schema/) and its interactive docs (/api/docs/), from drf-spectacular.
SPECTACULAR_SETTINGS = {
    "TITLE": "Rebound API",
    "DESCRIPTION": (
        "Closed-loop NPS: events in, tasks, scores and webhooks out. Authenticate with "
        "`Authorization: Bearer <token>` (Admins create tokens under API tokens); each token acts with its "
        'user\'s role and sees what that user sees. Errors: `{"detail": "…"}`, or for invalid input one '
        'list of messages per field: `{"field": ["…"]}`.'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.openapi.errors_hook",
        "integrations.openapi.webhooks_hook",  # the signed events Rebound sends: components and x-webhooks
    ],
    "ENUM_NAME_OVERRIDES": {
        "QueueEnum": "followups.models.Queue",
        "TaskStatusEnum": "followups.models.TaskStatus",
        "SegmentEnum": "customers.models.Segment",
        "StreamEnum": "surveys.models.Stream",
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Survey tokens in paths are credentials: every log line goes through the redacting filter.
    "filters": {"redact_tokens": {"()": "config.logredact.RedactTokensFilter"}},
    "formatters": {
        "server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"}
    },  # fmt: skip
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_tokens"]},
        "server": {"class": "logging.StreamHandler", "filters": ["redact_tokens"], "formatter": "server"},
    },
    "root": {"handlers": ["console"], "level": env.string("LOG_LEVEL", "INFO")},
    "loggers": {
        # runserver's request lines, redacted like the rest
        "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},
        # django-axes logs every successful sign-in at INFO; failures and lockouts are WARNING.
        "axes": {"level": "WARNING"},
    },
}

# Periodic work is a tick that looks at the database for what is due; see each app's tasks.
CELERY_BEAT_SCHEDULE = {
    "tick": {"task": "surveys.tasks.tick", "schedule": TICK_INTERVAL.total_seconds()},
    "outbox-tick": {"task": "outbox.tasks.tick", "schedule": TICK_INTERVAL.total_seconds()},
    "followups-tick": {"task": "followups.tasks.tick", "schedule": TICK_INTERVAL.total_seconds()},
    "customers-tick": {"task": "customers.tasks.tick", "schedule": TICK_INTERVAL.total_seconds()},
    "accounts-tick": {"task": "accounts.tasks.tick", "schedule": TICK_INTERVAL.total_seconds()},
    "integrations-tick": {"task": "integrations.tasks.tick", "schedule": TICK_INTERVAL.total_seconds()},
    # Quarter-level declines change slowly: look once an hour (the constraint keeps one alert each).
    "insights-declines": {"task": "insights.tasks.check_declines", "schedule": 3600},
    # The dashboard's daily rollups: new sealed days once a day matter; changed ones within minutes.
    "insights-rollups": {"task": "insights.tasks.refresh_rollups", "schedule": 300},
    # Theme discovery after closed waves, detractor risk before waves, interrupted discoveries.
    "insights-intelligence": {"task": "insights.tasks.intelligence_tick", "schedule": 3600},
}
