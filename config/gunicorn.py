"""gunicorn settings: `gunicorn -c config/gunicorn.py config.wsgi` (the Dockerfile does)."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
accesslog = "-"
# Survey tokens in paths are credentials: the access log prints them redacted.
logger_class = "config.logredact.GunicornLogger"
