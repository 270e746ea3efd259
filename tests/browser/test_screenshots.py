"""``make screenshots``: every page it lists answers 200 for its person of the demo, so a
renamed route or a changed demo fails here rather than in the README; its pictures come
out at the widths it names; and the README shows the pictures of the list as it stands."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from app.services.people import find_employee_by_email
from tests.conftest import sign_in
from tools.screenshots import (
    OUT,
    PAGES,
    PEOPLE,
    README,
    ROOT,
    TALLEST,
    WIDTHS,
    capture,
    file_name,
    readme_grid,
    sign_in_link,
)

pytestmark = pytest.mark.browser

SIZE = "() => [document.images[0].naturalWidth, document.images[0].naturalHeight]"


@pytest.fixture
def demo(app: Flask, runner, tmp_path, monkeypatch) -> Flask:
    monkeypatch.setitem(app.config, "MEDIA_FOLDER", str(tmp_path / "media"))
    result = runner.invoke(args=["seed-demo", "--no-links"])
    assert result.exit_code == 0, result.output
    return app


def test_the_list_names_each_picture_once_and_a_person_for_each_role():
    names = [file_name(role, name, width) for role, _, name in PAGES for width in WIDTHS]
    assert len(names) == len(set(names))
    assert {role for role, _, _ in PAGES} == set(PEOPLE)
    assert all(path.startswith("/") for _, path, _ in PAGES)


def test_the_readme_shows_the_pictures_of_the_list_and_they_are_there():
    """After a change to the list, ``make screenshots`` takes the pictures and writes the
    grid again."""
    readme = README.read_text(encoding="utf-8")
    assert readme_grid() in readme
    wanted = {file_name(role, name, width) for role, _, name in PAGES for width in WIDTHS}
    assert {path.name for path in OUT.iterdir()} == wanted
    for link in re.findall(r'(?:src|href)="(docs/screenshots/[^"]+)"', readme):
        assert (ROOT / link).is_file(), link


def test_every_listed_page_answers_200_for_its_person(demo, client):
    wrong = []
    for role, path, _ in PAGES:
        with demo.app_context():
            person = find_employee_by_email(PEOPLE[role])
            assert person is not None, f"the demo has no {PEOPLE[role]}"
            sign_in(client, person)
        answer = client.get(path)
        if answer.status_code != 200:
            wrong.append(f"{role} {path}: {answer.status_code} {answer.location or ''}")
    assert not wrong, "\n".join(wrong)


def test_capture_takes_each_page_at_each_width_and_refuses_a_redirect(
    demo, browser, live_url, tmp_path
):
    pages = [next(p for p in PAGES if p[0] == "employee"), next(p for p in PAGES if p[0] == "hr")]
    out = tmp_path / "shots"

    written = capture(browser, live_url, lambda role: sign_in_link(demo, role), out, pages)

    wanted = {file_name(role, name, width) for role, _, name in pages for width in WIDTHS}
    assert {path.name for path in written} == wanted
    assert {path.name for path in out.iterdir()} == wanted
    viewer = browser.new_page()
    try:
        for path in written:
            width = path.stem.rsplit("-", 1)[1]
            viewer.goto(path.as_uri())
            pixels_wide, pixels_high = viewer.evaluate(SIZE)
            assert pixels_wide == WIDTHS[width]["viewport"]["width"], path.name
            assert WIDTHS[width]["viewport"]["height"] <= pixels_high <= TALLEST[width]
    finally:
        viewer.context.close()

    # Home is the guidelines for someone who has not opted in: no picture of a redirect.
    with pytest.raises(RuntimeError, match="answered 200 at /guidelines"):
        capture(
            browser, live_url, lambda role: sign_in_link(demo, role), out, [("newcomer", "/", "x")]
        )
