"""Local development: the embedded default. SQLite, the filesystem broker, the dev outbox."""

from config import env

from .base import *  # noqa: F403

DEBUG = env.boolean("DEBUG", True)
vars().update(env.email("EMAIL_URL", "outbox://"))
WIDGET_DEMO = env.boolean("WIDGET_DEMO", True)  # /widget/demo/: the in-app widget in a pretend host app
