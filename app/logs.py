"""Logging: one structured line per request, JSON in production.

Request lines name the route pattern, not the path, so that sign-in and tracked-link
tokens never reach the logs; no client address is logged either.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, g, request


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", None)
        if fields:
            line += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        return line


def configure_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler.formatter.converter = time.gmtime
    root = logging.getLogger("chorus")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


request_log = logging.getLogger("chorus.request")
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id(headers) -> str:
    """The caller's X-Request-ID if it is plain (so it cannot forge log fields), else new."""
    given = headers.get("X-Request-ID", "")
    return given if REQUEST_ID_PATTERN.fullmatch(given) else uuid.uuid4().hex


def log_request(
    *,
    request_id: str,
    method: str,
    route: str | None,
    endpoint: str | None,
    status: int,
    started: float,
    user_id: str | None,
) -> None:
    """The one line per request: also written by the fast lanes, which skip the hooks."""
    if not request_log.isEnabledFor(logging.INFO):
        return
    request_log.info(
        "request",
        extra={
            "fields": {
                "request_id": request_id,
                "method": method,
                "route": route,
                "endpoint": endpoint,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "user_id": user_id,
            }
        },
    )


def init_app(app: Flask) -> None:
    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])

    @app.before_request
    def start_timer() -> None:
        g.request_started = time.perf_counter()
        g.request_id = request_id(request.headers)

    @app.after_request
    def log_request_line(response):
        started = g.get("request_started")
        if started is None:
            return response
        response.headers["X-Request-ID"] = g.request_id
        # Only a user the request already loaded: logging must not cost a query.
        user = g.get("_login_user")
        log_request(
            request_id=g.request_id,
            method=request.method,
            route=request.url_rule.rule if request.url_rule else None,
            endpoint=request.endpoint,
            status=response.status_code,
            started=started,
            user_id=str(user.id) if user is not None and user.is_authenticated else None,
        )
        return response
