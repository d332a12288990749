"""Production: secrets only from the environment, HTTPS everywhere."""

from django.core.exceptions import ImproperlyConfigured

from config import env

from .base import *  # noqa: F403

SECRET_KEY = env.raw("SECRET_KEY")
if not SECRET_KEY or len(SECRET_KEY) < 32:
    raise ImproperlyConfigured(
        "Environment variable SECRET_KEY must be set to a random string of at least 32 characters "
        'in production (python -c "import secrets; print(secrets.token_urlsafe(50))").'
    )
DEBUG = False
# Persistent database connections: opening one costs about 4 ms, more than answering a survey
# (bench/README.md). Health checks drop a connection the database closed.
DATABASES["default"]["CONN_MAX_AGE"] = env.integer("CONN_MAX_AGE", 60)  # noqa: F405
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405
SECURE_SSL_REDIRECT = env.boolean("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_REFERRER_POLICY = "same-origin"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
