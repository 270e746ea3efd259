"""Badge pages: the editor's form for every criteria kind and its problems by field;
the catalogue with earned, locked, progress and the streak in words; my badges newest
first; HR's editor with a preview before saving, backfill on save, retire and
reactivate; bad input re-renders the form with the message next to the field and saves
nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.errors import InvalidInput
from app.extensions import db
from app.models import AuditEntry, Badge, BadgeGrant, Role, utcnow
from app.web import badge_forms as forms
from scoring.badges import Level, Progress, parse_badge
from scoring.vocabulary import EventKind
from tests.conftest import csrf_token
from tests.factories import (
    BadgeFactory,
    BadgeGrantFactory,
    ChallengeFactory,
    EmployeeFactory,
    EventFactory,
)
from tests.web.points_pages_support import count

# The form: one for every kind --------------------------------------------------------


def _form(**fields) -> dict:
    values = forms.blank_values()
    values.update(name="Storyteller", description="")
    values.update(fields)
    return values


@pytest.mark.parametrize(
    ("fields", "definition"),
    [
        (
            {"kind": "count", "measure": "clicks", "bronze": "10", "silver": "50", "gold": ""},
            {"kind": "count", "measure": "clicks", "levels": {"bronze": 10, "silver": 50}},
        ),
        (  # a first has no levels and no streak fields, whatever else was typed
            {"kind": "first", "measure": "hires", "bronze": "3", "grace_weeks": "2"},
            {"kind": "first", "measure": "hires"},
        ),
        (
            {
                "kind": "streak",
                "measure": "points",
                "bronze": "4",
                "gold": "26",
                "grace_weeks": "1",
            },
            {"kind": "streak", "levels": {"bronze": 4, "gold": 26}, "grace_weeks": 1},
        ),
        (
            {"kind": "streak", "bronze": "4", "grace_weeks": ""},
            {"kind": "streak", "levels": {"bronze": 4}, "grace_weeks": 0},
        ),
        (
            {"kind": "placing", "top": "3", "bronze": "1", "silver": "5"},
            {
                "kind": "placing",
                "top": 3,
                "per_challenge": False,
                "levels": {"bronze": 1, "silver": 5},
            },
        ),
        (  # once for each challenge: no levels
            {"kind": "placing", "top": "1", "bronze": "2", "per_challenge": True},
            {"kind": "placing", "top": 1, "per_challenge": True},
        ),
    ],
    ids=["count", "first", "streak", "streak-no-grace", "placing", "per-challenge"],
)
def test_each_kind_maps_to_the_definition_the_core_reads(fields, definition):
    data = forms.definition_from_form(_form(**fields))
    expected = {"id": "storyteller", "name": "Storyteller", "description": "", **definition}
    assert data == expected
    assert parse_badge(data).id == "storyteller"  # the core takes it as it is


def test_a_stored_definition_comes_back_into_the_form_unchanged():
    stored = {
        "id": "steady",
        "name": "Steady sharer",
        "description": "Week after week",
        "kind": "streak",
        "levels": {"bronze": 4, "silver": 12},
        "grace_weeks": 1,
    }
    values = forms.values_of(stored, "steady", active=False)
    assert (values["bronze"], values["silver"], values["gold"]) == ("4", "12", "")
    assert values["active"] is False
    assert forms.definition_from_form(values, slug="steady") == stored


@pytest.mark.parametrize(
    ("name", "slug"),
    [("First share!", "first-share"), ("Größter Fan", "grosster-fan"), ("  --  ", "")],
)
def test_a_new_badge_takes_its_slug_from_the_name(name, slug):
    assert forms.slug_from(name) == slug


def test_the_slug_typed_wins_and_an_edit_keeps_the_stored_one():
    assert forms.definition_from_form(_form(slug="tales", bronze="1"))["id"] == "tales"
    assert forms.definition_from_form(_form(slug="tales", bronze="1"), slug="old")["id"] == "old"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"bronze": "ten"}, "bronze", "Give a whole number, like 10."),
        ({"bronze": "-1"}, "bronze", "Give a whole number, like 10."),
        ({"bronze": "1.5"}, "bronze", "Give a whole number, like 10."),
        ({"bronze": "٣"}, "bronze", "Give a whole number, like 10."),  # a digit, not ASCII
        ({"gold": "99999999999"}, "gold", "Give a number of at most 2147483647."),
        ({"kind": "placing", "top": "x"}, "top", "Give a whole number, like 10."),
        ({"kind": "streak", "bronze": "2", "grace_weeks": "one"}, "grace_weeks", "Give a whole"),
        ({"name": "!!!", "bronze": "1"}, "slug", "Give a slug"),
    ],
)
def test_numbers_that_are_not_whole_are_named_by_their_field(fields, field, message):
    with pytest.raises(InvalidInput) as caught:
        forms.definition_from_form(_form(**fields))
    assert list(caught.value.errors) == [field]
    assert caught.value.errors[field][0].startswith(message)
    assert caught.value.status == 422


@pytest.mark.parametrize(
    ("errors", "named"),
    [
        ({"id": ["bad"]}, {"slug": ["bad"]}),
        ({"levels.silver": ["low"]}, {"silver": ["low"]}),
        ({"definition.levels.gold": ["low"]}, {"gold": ["low"]}),
        ({"levels": {"silver": {"value": ["big"]}}}, {"silver": {"value": ["big"]}}),
        ({"name": ["x"], "levels": ["y"]}, {"name": ["x"], "levels": ["y"]}),
    ],
)
def test_the_cores_field_names_become_the_forms(errors, named):
    assert forms.form_errors(errors) == named


@pytest.mark.parametrize(
    ("definition", "progress", "words"),
    [
        (
            {"kind": "count", "measure": "shares", "levels": {"bronze": 10}},
            (7, 10),
            "7 of 10 shares",
        ),
        (
            {"kind": "count", "measure": "clicks", "levels": {"bronze": 1}},
            (0, 1),
            "0 of 1 counted click",
        ),
        (
            {"kind": "count", "measure": "points", "levels": {"bronze": 50}},
            (-5, 50),
            "0 of 50 points",
        ),
        (
            {"kind": "count", "measure": "lessons", "levels": {"bronze": 3}},
            (1, 3),
            "1 of 3 lessons finished",
        ),
        ({"kind": "streak", "levels": {"bronze": 4}}, (3, 4), "3 of 4 weeks"),
        ({"kind": "placing", "top": 3, "levels": {"bronze": 2}}, (1, 2), "1 of 2 top-3 places"),
    ],
)
def test_progress_in_words(definition, progress, words):
    badge = parse_badge({"id": "b", "name": "B", **definition})
    current, threshold = progress
    assert forms.progress_words(badge, Progress(current, threshold, Level.BRONZE)) == words


# Pages -------------------------------------------------------------------------------


def _post(client, path: str, data: dict | None = None):
    return client.post(path, data={"csrf_token": csrf_token(client, "/me"), **(data or {})})


def _shares(employee_id: int, *days_ago: float) -> None:
    for days in days_ago:
        EventFactory(
            employee_id=employee_id,
            kind=EventKind.SHARE,
            occurred_at=utcnow() - timedelta(days=days),
        )


def _card(page: str, slug: str) -> str:
    start = page.index(f'class="badge-card" data-badge="{slug}"')
    following = page.find('class="badge-card" data-badge=', start + 1)
    return page[start : following if following > 0 else page.index("</section>", start)]


def test_the_catalogue_shows_earned_locked_progress_and_the_streak_in_words(app, client, login):
    me = login(Role.EMPLOYEE, opted_in=True)
    with app.app_context():
        sharer = BadgeFactory(
            slug="sharer",
            name="Sharer",
            definition={
                "kind": "count",
                "measure": "shares",
                "levels": {"bronze": 2, "silver": 10, "gold": 50},
            },
        )
        BadgeFactory(
            slug="first-hire",
            name="First hire",
            definition={"kind": "first", "measure": "hires"},
        )
        BadgeFactory(slug="old", name="Old badge", active=False)
        _shares(me.id, 0, 7, 14, 30, 31, 32, 33)  # the three last weeks running
        BadgeGrantFactory(
            badge=sharer,
            employee_id=me.id,
            level=Level.BRONZE,
            granted_at=utcnow() - timedelta(days=32),
        )
    page = client.get("/badges").get_data(as_text=True)
    assert 'aria-current="page">Badges' in page
    assert re.search(r"data-streak>\s*3 weeks running", page)
    earned = _card(page, "sharer")
    assert 'data-state="earned"' in earned
    assert "emblem-bronze" in earned
    assert "Bronze: earned on" in earned
    assert "7 of 10 shares for silver" in earned
    assert '<progress max="10" value="7"' in earned
    locked = _card(page, "first-hire")
    assert 'data-state="locked"' in locked
    assert "emblem-locked" in locked
    assert "not yet earned" in locked
    assert "0 of 1 hire" in locked
    assert "Old badge" not in page  # retired, and not held
    assert "lost" not in page.lower()


def test_without_a_share_the_streak_is_an_invitation(app, client, login):
    login(Role.EMPLOYEE, opted_in=True)
    page = client.get("/badges").get_data(as_text=True)
    assert "Share this week to start a streak" in page
    assert "No badges yet." in page


def test_someone_not_taking_part_is_invited_and_sees_the_badges_in_words(app, client, login):
    login(Role.EMPLOYEE)
    with app.app_context():
        BadgeFactory(slug="sharer", name="Sharer")
    page = client.get("/badges").get_data(as_text=True)
    assert "Badges count from the day you take part" in page
    assert "Share once for bronze" in page
    assert "Your streak" not in page


def test_my_badges_newest_first_with_level_and_when(app, client, login):
    me = login(Role.EMPLOYEE, opted_in=True)
    with app.app_context():
        sharer = BadgeFactory(name="Sharer")
        podium = BadgeFactory(
            name="Podium",
            definition={"kind": "placing", "top": 3, "per_challenge": True},
        )
        challenge = ChallengeFactory(title="Spring sprint")
        BadgeGrantFactory(badge=sharer, employee_id=me.id, granted_at=utcnow() - timedelta(days=9))
        BadgeGrantFactory(
            badge=sharer,
            employee_id=me.id,
            level=Level.SILVER,
            granted_at=utcnow() - timedelta(days=3),
        )
        BadgeGrantFactory(
            badge=podium,
            employee_id=me.id,
            level=Level.ONCE,
            period=f"challenge-{challenge.id}",
            granted_at=utcnow() - timedelta(days=1),
        )
        BadgeGrantFactory(badge=sharer)  # someone else's
    page = client.get("/badges/mine").get_data(as_text=True)
    levels = re.findall(r'data-level="(\w+)"', page)
    assert levels == ["once", "silver", "bronze"]
    assert "in Spring sprint" in page
    assert page.count("Earned on") == 3


def test_my_badges_when_there_are_none(client, login):
    login(Role.EMPLOYEE, opted_in=True)
    page = client.get("/badges/mine").get_data(as_text=True)
    assert "No badges yet." in page


def _new_badge(**fields) -> dict:
    return {"name": "Storyteller", "kind": "count", "measure": "shares", "active": "on", **fields}


def test_hr_previews_then_saves_a_badge_which_backfills_quietly(app, client, login, run_jobs):
    login(Role.HR, opted_in=True)
    with app.app_context():
        lena = EmployeeFactory(name="Lena Hoffmann", opted_in=True).id
        omar = EmployeeFactory(name="Omar Said", opted_in=True).id
        _shares(lena, 40, 39, 38)
        _shares(omar, 1, 0.5, 0.1)
        _shares(EmployeeFactory(name="Once Only", opted_in=True).id, 2)
    form = client.get("/hr/badges/new").get_data(as_text=True)
    assert 'name="slug"' in form
    preview = _post(client, "/hr/badges/new", _new_badge(bronze="3", action="preview"))
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    assert re.search(r"data-preview-count>\s*2 people would get it now", page)
    assert "Lena Hoffmann: Bronze level" in page
    assert "Omar Said" in page
    assert 'value="3"' in page  # the form keeps what was typed
    with app.app_context():
        assert count(Badge) == 0  # a preview saves nothing
    saved = _post(client, "/hr/badges/new", _new_badge(bronze="3", action="save"))
    assert saved.status_code == 302
    assert saved.headers["Location"] == "/hr/badges"
    listing = client.get("/hr/badges").get_data(as_text=True)
    assert "receives it in the next minutes" in listing
    assert "<code>storyteller</code>" in listing
    run_jobs()
    with app.app_context():
        grants = {g.employee_id: g.quiet for g in db.session.scalars(select(BadgeGrant))}
        assert grants == {lena: True, omar: False}  # an old achievement notifies no one
        assert db.session.scalars(select(AuditEntry.action)).all() == ["badge.create"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"bronze": ""}, "levels", "Give a threshold for bronze, silver or gold."),
        ({"bronze": "5", "silver": "5"}, "silver", "Must be above the bronze threshold."),
        ({"bronze": "abc"}, "bronze", "Give a whole number, like 10."),
        ({"name": " ", "bronze": "1"}, "name", "Give the badge a name."),
        ({"kind": "placing", "bronze": "1"}, "top", "Is required."),
        ({"kind": "dance", "bronze": "1"}, "kind", "Must be one of"),
        ({"slug": "Not A Slug", "bronze": "1"}, "slug", "Use lowercase letters"),
        ({"kind": "first", "measure": "points"}, "measure", "A first badge counts"),
        ({"bronze": "1000000001"}, "bronze", "Must be greater than or equal to 1 and less"),
        ({"name": "Nul\x00", "bronze": "1"}, "name", "Text cannot hold the NUL character"),
        ({"description": "x" * 2001, "bronze": "1"}, "description", "At most 2000 characters."),
    ],
)
def test_bad_input_is_named_next_to_its_field_and_saves_nothing(
    app, client, login, fields, field, message
):
    login(Role.HR)
    for action in ("preview", "save"):
        response = _post(client, "/hr/badges/new", _new_badge(action=action, **fields))
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert re.search(rf'<p class="field-error" id="{field}-error">{re.escape(message)}', page)
        assert 'role="status" data-preview' not in page
    with app.app_context():
        assert count(Badge) == 0


def test_a_name_or_slug_taken_is_refused_next_to_its_field(app, client, login):
    login(Role.HR)
    with app.app_context():
        BadgeFactory(slug="sharer", name="Sharer")
    taken = _post(client, "/hr/badges/new", _new_badge(name="Sharer", slug="other", bronze="1"))
    assert taken.status_code == 409
    assert 'id="name-error">There is a badge called Sharer' in taken.get_data(as_text=True)
    slug = _post(client, "/hr/badges/new", _new_badge(name="New", slug="sharer", bronze="1"))
    assert slug.status_code == 409
    assert 'id="slug-error">There is a badge with the id sharer' in slug.get_data(as_text=True)
    with app.app_context():
        assert count(Badge) == 1


def test_hr_edits_a_badge_the_slug_stays_and_the_kind_can_change(app, client, login, run_jobs):
    login(Role.HR)
    with app.app_context():
        badge_id = BadgeFactory(slug="sharer", name="Sharer").id
        lena = EmployeeFactory(name="Lena Hoffmann", opted_in=True).id
        _shares(lena, 0, 7, 14)
    form = client.get(f"/hr/badges/{badge_id}/edit").get_data(as_text=True)
    assert "<code>sharer</code>" in form
    assert 'name="slug"' not in form
    assert 'id="kind-count" name="kind" value="count" checked' in form
    values = {
        "name": "Steady sharer",
        "slug": "sneaky",  # not a field of the edit form: ignored
        "kind": "streak",
        "bronze": "3",
        "grace_weeks": "1",
        "active": "on",
    }
    preview = _post(client, f"/hr/badges/{badge_id}/edit", {**values, "action": "preview"})
    assert preview.status_code == 200
    assert "1 person would get it now" in preview.get_data(as_text=True)
    bad = _post(client, f"/hr/badges/{badge_id}/edit", {**values, "bronze": "0", "action": "save"})
    assert bad.status_code == 422
    assert 'id="bronze-error">Must be greater than or equal to 1' in bad.get_data(as_text=True)
    saved = _post(client, f"/hr/badges/{badge_id}/edit", {**values, "action": "save"})
    assert saved.status_code == 302
    run_jobs()
    with app.app_context():
        badge = db.session.get(Badge, badge_id)
        assert (badge.slug, badge.name) == ("sharer", "Steady sharer")
        assert badge.definition == {
            "id": "sharer",
            "name": "Steady sharer",
            "description": "",
            "kind": "streak",
            "levels": {"bronze": 3},
            "grace_weeks": 1,
        }
        assert db.session.scalar(select(BadgeGrant.employee_id)) == lena


def test_hr_retires_and_reactivates_and_holders_keep_it(app, client, login):
    login(Role.HR)
    with app.app_context():
        grant = BadgeGrantFactory(badge=BadgeFactory(name="Sharer"))
        badge_id, holder = grant.badge_id, grant.employee_id
    assert _post(client, f"/hr/badges/{badge_id}/retire").status_code == 302
    listing = client.get("/hr/badges").get_data(as_text=True)
    assert "Sharer is retired: nobody earns it from now on" in listing
    assert "Reactivate Sharer" in listing
    with app.app_context():
        assert db.session.get(Badge, badge_id).active is False
        assert db.session.scalar(select(BadgeGrant.employee_id)) == holder
    assert _post(client, f"/hr/badges/{badge_id}/activate").status_code == 302
    assert "Retire Sharer" in client.get("/hr/badges").get_data(as_text=True)
    assert _post(client, "/hr/badges/999999/retire").status_code == 404
    with app.app_context():
        assert db.session.get(Badge, badge_id).active is True
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions == ["badge.retire", "badge.activate"]


def test_saving_unticked_keeps_a_new_badge_retired(app, client, login):
    login(Role.HR)
    response = _post(client, "/hr/badges/new", {**_new_badge(bronze="1"), "active": ""})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Badge.active)) is False


def test_the_editor_is_for_hr_and_the_nav_says_so(client, login):
    login(Role.TEAM_LEAD, opted_in=True)
    assert client.get("/hr/badges").status_code == 403
    assert _post(client, "/hr/badges/new", _new_badge(bronze="1")).status_code == 403
    nav = client.get("/badges").get_data(as_text=True)
    assert 'href="/hr/badges"' not in nav
    login(Role.HR)
    page = client.get("/hr/badges/new").get_data(as_text=True)
    nav = page[page.index('<nav class="nav"') : page.index("</nav>")]
    assert 'href="/badges"' in nav
    assert '<details class="menu" data-current>' in nav


def test_the_editor_needs_the_forms_csrf_token_and_a_badge_that_exists(app, client, login):
    login(Role.HR)
    with app.app_context():
        badge_id = BadgeFactory(name="Sharer").id
    forged = client.post(f"/hr/badges/{badge_id}/edit", data={**_new_badge(bronze="1")})
    assert forged.status_code == 400
    assert client.post("/hr/badges/new", data=_new_badge(bronze="1")).status_code == 400
    assert client.get("/hr/badges/999999/edit").status_code == 404
    assert _post(client, "/hr/badges/999999/edit", _new_badge(bronze="1")).status_code == 404
    assert _post(client, "/hr/badges/999999/activate").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(Badge.name)) == "Sharer"
        assert count(Badge) == 1


def test_an_edit_refused_for_a_name_taken_changes_nothing(app, client, login):
    login(Role.HR)
    with app.app_context():
        BadgeFactory(name="Sharer")
        other = BadgeFactory(name="Clicker")
        other_id, before = other.id, dict(other.definition)
    response = _post(
        client, f"/hr/badges/{other_id}/edit", _new_badge(name="sharer", bronze="7", silver="9")
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'id="name-error">There is a badge called' in page
    assert 'value="9"' in page  # what was typed stays in the form
    with app.app_context():
        badge = db.session.get(Badge, other_id)
        assert (badge.name, badge.definition) == ("Clicker", before)
