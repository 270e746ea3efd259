"""Absolute links: in pages, mails, shares and the CLI's output."""

from __future__ import annotations

from flask import current_app, has_request_context, request


def base_url() -> str:
    """Where Chorus is reached, without a trailing slash: BASE_URL when it is set (as
    production requires); otherwise the host and port this request came to, so that
    ``PORT=5001`` links to :5001; outside a request (mails, the CLI), HOST and PORT."""
    if current_app.config.get("BASE_URL_FROM_REQUEST") and has_request_context():
        return request.host_url.rstrip("/")
    return current_app.config["BASE_URL"].rstrip("/")


def path_for(endpoint: str, **values) -> str:
    """The path of a page, with or without a request (jobs store links too)."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def absolute_url(endpoint: str, **values) -> str:
    return base_url() + path_for(endpoint, **values)
