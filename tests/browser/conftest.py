"""Headless Chromium against the app served from a thread on a free local port.

One browser per test session; each test gets a fresh browser context (cookies, storage).
The system's Chromium is used, never a downloaded one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path("/tmp/chorus-shots")  # noqa: S108 - screenshots to look at, never committed


class _ClosingRequestHandler(WSGIRequestHandler):
    """Werkzeug's server skips closing the answer when the browser drops the connection
    mid-answer (it navigated on while an image was sent): the file behind the answer
    would stay open, a ResourceWarning. Close it here, as a production server does."""

    def connection_dropped(self, error, environ=None) -> None:
        answer = (environ or {}).get("chorus.test.answer")
        if answer is not None and hasattr(answer, "close"):
            answer.close()


def _remembering_answers(app: Flask):
    def serve(environ, start_response):
        answer = app(environ, start_response)
        environ["chorus.test.answer"] = answer
        return answer

    return serve


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    server = make_server(
        "127.0.0.1",
        0,
        _remembering_answers(app),
        threaded=True,
        request_handler=_ClosingRequestHandler,
    )
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture
def live_url(app: Flask, live_server: str) -> Iterator[str]:
    """The live server's URL, also used for links in mails while the test runs."""
    previous = app.config["BASE_URL"]
    app.config["BASE_URL"] = live_server
    yield live_server
    app.config["BASE_URL"] = previous


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Chromium to run the browser tests"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, live_url: str):
    """``new_page(viewport=...)`` opens a page in a fresh context; all close after the test."""
    contexts = []

    def open_page(**options):
        context = browser.new_context(base_url=live_url, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def screenshot(page, name: str, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def overflow(page) -> int:
    """How many pixels the page is wider than its window (0 or less: it fits). Waits for
    the document to load first: a click that navigates may still be fetching the next
    page, and the check must read that page, not a half-made one."""
    page.wait_for_load_state()
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def assert_fits(page, what: str) -> None:
    assert overflow(page) <= 0, f"{what} scrolls sideways"
