"""Outgoing mail. The backend is chosen by MAIL_BACKEND: ``console`` writes mails to the
log, ``files`` writes each as an .eml file into MAIL_DIR (open them in any mail
program) and its text to the log (``make run``), ``smtp`` sends them, ``memory`` keeps
them in a list (tests).

``send_message`` raises ``MailRefused`` with the server's reply code (None when no
server answered), so that the outbox can tell a transient failure from a final one."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app

log = logging.getLogger("chorus.mail")


# Header lines up to RFC 5322's 998 characters: a long List-Unsubscribe stays one
# <URL>, where the default 78 would fold it into encoded words mail programs cannot use.
POLICY = policy.default.clone(max_line_length=998)


class MailRefused(Exception):
    def __init__(self, code: int | None, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


def where_mail_goes() -> str:
    """In words, for the demo's start and the logs."""
    config = current_app.config
    return {
        "console": "Mail is written to the worker's log (MAIL_BACKEND=console).",
        "files": f"Mail is written as .eml files to {config['MAIL_DIR']} (open them in any "
        "mail program), its text to the worker's log (MAIL_BACKEND=files).",
        "smtp": f"Mail goes out through {config['SMTP_HOST']}:{config['SMTP_PORT']} (SMTP).",
        "memory": "Mail is kept in memory (MAIL_BACKEND=memory, for tests).",
    }[config["MAIL_BACKEND"]]


def outbox() -> list[EmailMessage]:
    return current_app.extensions.setdefault("mail_outbox", [])


def make_message(
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """A plain-text mail, or multipart/alternative with ``html`` as the richer part."""
    message = EmailMessage(policy=POLICY)
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="chorus.invalid")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def send_mail(to: str, subject: str, body: str) -> None:
    send_message(make_message(to, subject, body))


def send_message(message: EmailMessage) -> None:
    config = current_app.config
    backend = config["MAIL_BACKEND"]
    if backend == "console":
        log.info("mail to %s: %s\n%s", message["To"], message["Subject"], _text_of(message))
    elif backend == "memory":
        outbox().append(message)
    elif backend == "files":  # and the text to the log, where a sign-in link is handy
        directory = Path(config["MAIL_DIR"])
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / (datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + ".eml")
        path.write_bytes(bytes(message))
        log.info(
            "mail to %s: %s (%s)\n%s", message["To"], message["Subject"], path, _text_of(message)
        )
    elif backend == "smtp":
        _send_smtp(message)
    else:
        raise RuntimeError(f"MAIL_BACKEND={backend!r}: use console, files, smtp or memory")


def _send_smtp(message: EmailMessage) -> None:
    config = current_app.config
    try:
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=20) as smtp:
            if config["SMTP_STARTTLS"]:
                smtp.starttls()
            if config["SMTP_USERNAME"]:
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        code, reason = next(iter(exc.recipients.values()))
        raise MailRefused(code, reason.decode(errors="replace")) from exc
    except smtplib.SMTPResponseException as exc:
        raise MailRefused(exc.smtp_code, _reason(exc.smtp_error)) from exc
    except OSError as exc:  # refused, timed out, disconnected: nobody answered
        raise MailRefused(None, str(exc) or type(exc).__name__) from exc


def _reason(error: bytes | str) -> str:
    return error.decode(errors="replace") if isinstance(error, bytes) else str(error)


def _text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""
