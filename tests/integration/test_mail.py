"""Mail backends: memory for tests, console for laptops."""

from __future__ import annotations

import logging
from email import message_from_bytes, policy

import pytest

from app.mail import make_message, send_mail, send_message, where_mail_goes


def test_memory_backend_keeps_the_message(ctx, outbox):
    send_mail("jana@example.com", "Hello", "Body with ümlauts\n")
    [message] = outbox
    assert message["To"] == "jana@example.com"
    assert message["Subject"] == "Hello"
    assert message["From"] == ctx.config["MAIL_FROM"]
    assert message.get_content() == "Body with ümlauts\n"


def test_console_backend_logs_the_message(ctx, monkeypatch, outbox):
    monkeypatch.setitem(ctx.config, "MAIL_BACKEND", "console")
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("chorus.mail")
    logger.addHandler(handler)
    try:
        send_mail("jana@example.com", "Hello", "the body")
    finally:
        logger.removeHandler(handler)
    assert outbox == []
    [record] = records
    assert "jana@example.com" in record.getMessage()
    assert "the body" in record.getMessage()


def test_unknown_backend_is_an_error(ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "MAIL_BACKEND", "pigeon")
    with pytest.raises(RuntimeError, match="console, files, smtp or memory"):
        send_mail("jana@example.com", "Hello", "the body")


def test_files_backend_writes_an_eml_a_mail_program_opens(ctx, monkeypatch, tmp_path):
    monkeypatch.setitem(ctx.config, "MAIL_BACKEND", "files")
    monkeypatch.setitem(ctx.config, "MAIL_DIR", str(tmp_path / "mail"))
    send_message(make_message("jana@example.com", "Hello", "the text", "<p>the html</p>"))
    (written,) = (tmp_path / "mail").iterdir()
    assert written.suffix == ".eml"
    message = message_from_bytes(written.read_bytes(), policy=policy.default)
    assert message["Subject"] == "Hello"
    assert message.get_body(preferencelist=("html",)).get_content().strip() == "<p>the html</p>"
    assert str(tmp_path / "mail") in where_mail_goes()
