"""outbox/mime.py writes the same message Django's EmailMessage builds, for what it accepts."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default

import pytest
from django.core.mail import EmailMultiAlternatives

from outbox.mime import smtp_bytes

UNSUBSCRIBE = {"List-Unsubscribe": "<https://x.example/u/abc/>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
CASES = [
    {
        "subject": "How likely are you to recommend Acme?",
        "from_email": "Acme Success <nps@acme.example.com>",
        "to": "pat@example.com",
        "text": "Hi Pat,\n\nA link: https://x.example/s/abc/?score=9\n",
        "html": "<p>Hi <b>Pat</b></p>",
        "headers": UNSUBSCRIBE,
    },
    {
        "subject": "Wie wahrscheinlich empfehlen Sie Müller & Söhne?",
        "from_email": '"Müller, Jürgen" <nps@mueller.example.de>',
        "to": "jo@example.de",
        "text": "Hallo Jürgen — ä ö ü ß €\n" * 3,
        "html": "<p>Grüße, “Team”</p>",
        "headers": {},
    },
    {
        "subject": "Plain only",
        "from_email": "nps@acme.example.com",
        "to": "pat@example.com",
        "text": "Just text.",
        "html": "",
        "headers": {},
    },
]


def _django(case) -> bytes:
    message = EmailMultiAlternatives(
        subject=case["subject"], body=case["text"], from_email=case["from_email"], to=[case["to"]],
        headers=case["headers"],
    )  # fmt: skip
    if case["html"]:
        message.attach_alternative(case["html"], "text/html")
    return message.message().as_bytes(linesep="\r\n")


def _parts(raw: bytes) -> dict:
    parsed = message_from_bytes(raw, policy=default)
    bodies = {part.get_content_type(): part.get_content() for part in parsed.walk() if not part.is_multipart()}
    # Stripped: Django folds a long encoded subject so that it decodes with a leading space.
    headers = {
        name: str(parsed[name]).strip() for name in ("Subject", "From", "To", "List-Unsubscribe", "MIME-Version")
    }
    return {"type": parsed.get_content_type(), "headers": headers, "bodies": bodies}


@pytest.mark.parametrize("case", CASES, ids=["ascii", "umlauts", "plain"])
def test_the_direct_bytes_read_back_as_djangos_message(case):
    envelope, raw = smtp_bytes(**case)
    assert envelope == case["from_email"].rpartition("<")[2].rstrip(">")
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only: smtplib sends bytes as they are
    ours, django = _parts(raw), _parts(_django(case))
    assert ours == django
    parsed = message_from_bytes(raw, policy=default)
    assert parsed["Date"] and parsed["Message-ID"]


@pytest.mark.parametrize(
    "change",
    [
        {"to": "jürgen@example.de"},
        {"subject": "Two\nlines"},
        {"text": "x" * 1200},
        {"text": "short\n" + "ü" * 500 + "\nshort"},  # 500 characters, 1,000 bytes
        {"headers": {"X-A": "b\r\nBcc: y"}},
        {"from_email": "nps@exämple.de"},
    ],
    ids=[
        "non-ascii address", "subject with a line break", "long line", "long line in bytes", "header injection",
        "non-ascii sender",
    ],
)  # fmt: skip
def test_anything_unusual_is_left_to_django(change):
    assert smtp_bytes(**{**CASES[0], **change}) is None


def test_a_long_line_within_998_bytes_is_written_directly():
    assert smtp_bytes(**{**CASES[0], "text": "ü" * 499}) is not None  # 998 bytes
