"""The API reference at /api/docs: open to everyone like the document it reads, served
from this origin with no inline script, and linked where admins meet the API."""

from __future__ import annotations

import re

import pytest

from app.api.reference import ASSETS
from app.models import Role


def test_the_reference_is_open_to_everyone_and_loads_only_our_own_files(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self';" in policy
    page = response.get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>", page)
    assert len(scripts) == 2
    assert all('src="/' in attributes for attributes in scripts)
    assert 'data-spec-url="/api/openapi.json"' in page
    assert not re.search(r"""(src|href)="(https?:)?//""", page)  # nothing from elsewhere


@pytest.mark.parametrize(
    ("name", "kind"),
    [("swagger-ui-bundle.js", "javascript"), ("swagger-ui.css", "text/css")],
)
def test_swagger_ui_is_served_from_the_installed_package(client, name, kind):
    with client.get(f"/api/docs/assets/{name}") as response:
        assert response.status_code == 200
        assert kind in response.content_type
        assert response.data == (ASSETS / name).read_bytes()


@pytest.mark.parametrize("name", ["../__init__.py", "..%2F__init__.py", "no-such-file.js"])
def test_only_the_packages_files_are_served(client, name):
    assert client.get(f"/api/docs/assets/{name}").status_code == 404


@pytest.mark.parametrize(
    ("role", "linked"), [(Role.EMPLOYEE, False), (Role.HR, False), (Role.ADMIN, True)]
)
def test_admins_find_the_reference_in_the_navigation(client, login, role, linked):
    login(role)
    page = client.get("/me").get_data(as_text=True)
    assert ('href="/api/docs"' in page) is linked


def test_the_tokens_page_points_to_the_reference(client, login):
    login(Role.ADMIN)
    page = client.get("/admin/tokens").get_data(as_text=True)
    section = page.split("Create a token")[0]
    assert re.search(r'<a href="/api/docs"[^>]*>API reference</a>', section)
