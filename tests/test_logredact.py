"""Survey tokens are credentials: no log line carries one."""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest

from config.logredact import GunicornLogger, RedactTokensFilter, redact

from .factories import InvitationFactory


def test_redact_hides_answer_and_unsubscribe_tokens_only():
    assert redact("GET /s/abc123DEF_-x/?score=9 HTTP/1.1") == "GET /s/[redacted]/?score=9 HTTP/1.1"
    assert redact("Not Found: /u/tok3n/") == "Not Found: /u/[redacted]/"
    assert redact("/s/tok/thanks/") == "/s/[redacted]/thanks/"
    assert redact("GET /programs/12/ HTTP/1.1") == "GET /programs/12/ HTTP/1.1"
    assert redact("/contacts/s/") == "/contacts/s/"


@pytest.mark.django_db
def test_django_request_logging_prints_no_token(client):
    """The handler of settings.LOGGING redacts what Django's request logger writes."""
    invitation = InvitationFactory()
    handler = next(h for h in logging.getLogger().handlers if any(isinstance(f, RedactTokensFilter) for f in h.filters))
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        client.get(f"/s/{invitation.token}/no-such-page/")  # a 404, logged by django.request
        client.get(f"/u/{invitation.token}x/")
    finally:
        handler.setStream(previous)
    output = stream.getvalue()
    assert "Not Found" in output
    assert invitation.token not in output
    assert "/s/[redacted]/" in output


def test_gunicorn_access_log_prints_no_token():
    logger = GunicornLogger(SimpleNamespace(
        errorlog="-", loglevel="info", accesslog="-", access_log_format='%(h)s "%(r)s" %(s)s "%(f)s"',
        logconfig=None, logconfig_dict={}, logconfig_json=None, syslog=False, capture_output=False, user=0,
        group=0, umask=0, disable_redirect_access_to_syslog=False, syslog_addr=None, syslog_prefix=None,
        syslog_facility="user", dogstatsd_tags="", statsd_host=None, statsd_prefix="",
    ))  # fmt: skip
    environ = {
        "REQUEST_METHOD": "POST", "RAW_URI": "/s/SECRETTOKEN/", "PATH_INFO": "/s/SECRETTOKEN/",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "203.0.113.5", "QUERY_STRING": "",
        "HTTP_REFERER": "https://rebound.example.com/s/SECRETTOKEN/?score=3",
    }  # fmt: skip
    response = SimpleNamespace(status="302 Found", sent=0, headers=[])
    atoms = logger.atoms(response, SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])]), environ,
                         timedelta(milliseconds=5))  # fmt: skip
    line = logger.cfg.access_log_format % atoms
    assert "SECRETTOKEN" not in line
    assert '"POST /s/[redacted]/ HTTP/1.1" 302' in line
