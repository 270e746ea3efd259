"""Mail backends: memory for tests, console for laptops."""

from __future__ import annotations

import logging

import pytest

from app.mail import send_mail


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
