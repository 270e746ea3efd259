"""The API reference at /api/docs in a real browser: the operations are listed, nothing
is fetched from another host, the page's own policy is never violated, and it fits a
phone."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import overflow, screenshot
from tests.browser.test_phone_layout import PHONE, WIDEST

pytestmark = pytest.mark.browser

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def _open_reference(new_page):
    page = new_page(**PHONE)
    requested: list[str] = []
    complaints: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on(
        "console",
        lambda message: complaints.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: complaints.append(str(error)))
    response = page.goto("/api/docs")
    assert response is not None
    assert response.status == 200
    return page, requested, complaints


def _open_section(page, tag: str) -> None:
    """Sections start closed; open one and wait for its operations."""
    page.locator(f'.opblock-tag[data-tag="{tag}"]').first.click()
    page.locator(".opblock-summary-path", has_text=f"/api/v1/{tag}").first.wait_for()


def test_the_reference_lists_the_operations_from_this_origin_alone(new_page):
    page, requested, complaints = _open_reference(new_page)
    page.locator('.opblock-tag[data-tag="lessons"]').wait_for()
    assert page.locator(".opblock-tag").count() > 25  # every section, the last one too
    for tag in ("teams", "challenges", "lessons"):  # early, middle and last sections open
        _open_section(page, tag)
    expect(page.get_by_text("Chorus API").first).to_be_visible()
    assert any(url.endswith("/api/openapi.json") for url in requested)
    elsewhere = [
        url
        for url in requested
        if urlsplit(url).scheme in ("http", "https", "ws", "wss")
        and urlsplit(url).hostname not in LOCAL_HOSTS
    ]
    assert elsewhere == []
    assert complaints == []  # no script error, no Content-Security-Policy violation


def test_the_reference_fits_a_phone_with_an_operation_open(new_page):
    page, _, complaints = _open_reference(new_page)
    _open_section(page, "teams")
    assert overflow(page) == 0, page.evaluate(WIDEST)
    page.locator(".opblock-get .opblock-summary", has_text="/api/v1/teams").first.click()
    page.locator(".opblock-get.is-open .responses-wrapper").first.wait_for()
    if overflow(page) > 0:
        screenshot(page, "wide-api-reference")
    assert overflow(page) == 0, page.evaluate(WIDEST)
    assert complaints == []
