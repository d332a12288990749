"""A survey email's bytes, written directly for the common case.

Building a message with Python's `email` package (what Django's EmailMessage does) costs more than
sending it: header folding, a boundary checked with a freshly compiled regex, then flattening.
A wave sends tens of thousands of messages that are all alike — ASCII addresses and headers,
UTF-8 text and HTML bodies with ordinary line lengths — so for those `smtp_bytes` writes the same
MIME structure (multipart/alternative, 8bit UTF-8 parts) itself. Anything else — a non-ASCII
address, a header with a line break, a line over 998 bytes — returns None, and the sender builds
the message with Django as before. Tests parse both outputs with `email` and compare them.
"""

from __future__ import annotations

import random
from email.header import Header
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from functools import lru_cache

from django.conf import settings
from django.core.mail.utils import DNS_NAME

MAX_LINE = 998  # RFC 5322, bytes, without the CRLF


def _ascii_line(value: str) -> bool:
    return value.isascii() and "\r" not in value and "\n" not in value and len(value) <= 900


# A line of fewer than 250 characters is under 998 bytes in UTF-8 (at most 4 bytes each): only longer
# ones are encoded and measured.
SHORT_LINE = 250


def _body_ok(text: str) -> bool:
    if "\r" in text:
        return False
    lines = text.split("\n")
    if max(map(len, lines)) < SHORT_LINE:
        return True
    return all(len(line.encode()) <= MAX_LINE for line in lines if len(line) >= SHORT_LINE)


def _subject(subject: str) -> str | None:
    if "\r" in subject or "\n" in subject:
        return None
    if subject.isascii() and len(subject) <= 900:
        return subject
    return Header(subject, "utf-8").encode()


@lru_cache(maxsize=256)
def _sender(from_email: str) -> tuple[str, str] | None:
    """(From header, envelope sender), or None when the address part isn't plain ASCII."""
    name, address = parseaddr(from_email)
    if not address or not address.isascii() or "@" not in address:
        return None
    header = formataddr((name, address), charset="utf-8") if name else address
    return (header, address) if _ascii_line(header) else None


def smtp_bytes(
    *, subject: str, from_email: str, to: str, text: str, html: str, headers: dict
) -> tuple[str, bytes] | None:
    """(envelope sender, message bytes with CRLF line ends) or None to build it with Django."""
    sender = _sender(from_email)
    subject_header = _subject(subject)
    if sender is None or subject_header is None or not _ascii_line(to) or "@" not in to:
        return None
    if not all(_ascii_line(str(k)) and _ascii_line(str(v)) for k, v in headers.items()):
        return None
    if not _body_ok(text) or (html and not _body_ok(html)):
        return None
    lower = {str(k).lower() for k in headers}
    lines = []
    if html:
        # Random like the email package's own boundaries: unique, not secret (no system call per message).
        boundary = f"==============={random.getrandbits(128):032x}=="  # noqa: S311
        lines.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
    else:
        lines += ['Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: 8bit"]
    lines += ["MIME-Version: 1.0", f"Subject: {subject_header}", f"From: {sender[0]}", f"To: {to}"]
    if "date" not in lower:
        lines.append(f"Date: {formatdate(localtime=settings.EMAIL_USE_LOCALTIME)}")
    if "message-id" not in lower:
        lines.append(f"Message-ID: {make_msgid(domain=DNS_NAME)}")
    lines += [f"{name}: {value}" for name, value in headers.items() if str(name).lower() not in {"from", "to"}]
    head = "\n".join(lines) + "\n\n"
    if not html:
        message = head + text
    else:
        part = 'Content-Type: text/{kind}; charset="utf-8"\nMIME-Version: 1.0\nContent-Transfer-Encoding: 8bit\n\n'
        message = (
            f"{head}--{boundary}\n{part.format(kind='plain')}{text}\n"
            f"--{boundary}\n{part.format(kind='html')}{html}\n"
            f"--{boundary}--\n"
        )
    # smtplib sends bytes as they are (it fixes line ends of str only): CRLF here.
    return sender[1], message.replace("\n", "\r\n").encode()
