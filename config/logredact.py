"""Survey tokens never reach a log.

A survey link (/s/<token>/, /u/<token>/) is a bearer credential: whoever has it can answer or
unsubscribe as the customer. Django's request logging ("Not Found: /s/…/"), runserver's request
lines and gunicorn's access log all print paths, so each goes through ``redact`` first:
``RedactTokensFilter`` for Python logging (settings.LOGGING) and ``GunicornLogger`` for the access
log (config/gunicorn.py sets it).
"""

from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger as _GunicornLogger

TOKEN_PATH = re.compile(r"(/[su]/)[^/?#\s\"']+")
REDACTED = r"\1[redacted]"


def redact(text: str) -> str:
    return TOKEN_PATH.sub(REDACTED, text)


class RedactTokensFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


class GunicornLogger(_GunicornLogger):
    """gunicorn's logger with the request line, path and referrer of each access-log line redacted."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "f", "{referer}i"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms
