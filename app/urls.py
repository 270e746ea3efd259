"""Absolute links for mails and CLI output, which are built outside any request."""

from __future__ import annotations

from flask import current_app


def absolute_url(endpoint: str, **values) -> str:
    adapter = current_app.url_map.bind("localhost")
    return current_app.config["BASE_URL"] + adapter.build(endpoint, values)
