"""Every page fits a 390 px phone screen, for every role: no sideways scrolling.

The pages are read from the app's URL map, so a new page is checked without being
listed here; path ids come from the seeded demo company."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from app.demo import DEMO_LOGINS
from app.extensions import db
from app.models import (
    Badge,
    Challenge,
    ContentItem,
    Employee,
    Lesson,
    ReferralProgramme,
    Reward,
    Role,
    ScoringRule,
    Share,
    TabooTopic,
    WebhookEndpoint,
    utcnow,
)
from app.services import challenges, intranet
from app.services.lessons_demo import add_demo_lessons
from app.services.sign_in import sign_in_url
from tests.browser.conftest import overflow, screenshot

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}

# GET routes that are not pages, each with the reason.
NOT_PAGES = {
    "static": "files",
    "content.media": "image files",
    "links.follow": "the tracked-link redirect",
    "health.healthz": "JSON for monitors",
    "profile.export": "a JSON download",
    "analytics_pages.company_csv": "a CSV download",
    "analytics_pages.team_csv": "a CSV download",
}
SIGNED_OUT = {"auth.sign_in", "auth.confirm_sign_in"}
# The visible elements that reach beyond the screen's right edge, to say what to fix.
WIDEST = """() => [...document.querySelectorAll("body *")]
  .filter((e) => e.getClientRects().length && !e.closest("details:not([open])")
    && e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .slice(0, 6)
  .map((e) => e.tagName.toLowerCase() + (e.className ? "." + e.className : "")
    + (e.id ? "#" + e.id : "") + ":" + Math.round(e.getBoundingClientRect().right))"""


def page_endpoints(app: Flask) -> dict[str, object]:
    return {
        rule.endpoint: rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and not rule.rule.startswith("/api/")
        and rule.endpoint not in NOT_PAGES
    }


def _first(model, *where) -> int | None:
    return db.session.scalar(select(model.id).where(*where).order_by(model.id))


def _path_values(me: Employee) -> dict[str, object]:
    return {
        "content_id": _first(ContentItem),
        "share_id": _first(Share, Share.employee_id == me.id) or _first(Share),
        "employee_id": _first(Employee, Employee.id != me.id),
        "endpoint_id": _first(WebhookEndpoint),
        "programme_id": _first(ReferralProgramme),
        "reward_id": _first(Reward),
        "badge_id": _first(Badge),
        "challenge_id": _visible_challenge(me),
        "lesson_id": _first(Lesson) or _starter_lesson(),
        "rule_id": _first(ScoringRule),
        "topic_id": _first(TabooTopic),
        "token": "not-a-real-token",
        "secret": _intranet_secret(me),
    }


def _intranet_secret(me: Employee) -> str:
    """A live company link: the demo's own cannot be read back, only its hash is kept."""
    _, secret = intranet.create_link(me, None)
    db.session.commit()
    return secret


def _visible_challenge(me: Employee) -> int | None:
    """A challenge this person sees, running ones first, so its page (not a 404) is
    measured; any challenge when they see none."""
    for phase in (challenges.Phase.RUNNING, challenges.Phase.FINISHED, None):
        found = db.session.scalars(challenges.list_visible(me, phase).limit(1)).first()
        if found is not None:
            return found.id
    return db.session.scalar(select(Challenge.id).order_by(Challenge.id))


def _starter_lesson() -> int:
    """The starter lessons, when the demo has none yet."""
    lesson_id = add_demo_lessons(None, utcnow())[0].id
    db.session.commit()
    return lesson_id


def _person(role: str) -> int:
    """Someone of that role who takes part (so their feed and dialogs show), with shares
    where there are any."""
    if role in ("hr", "admin"):
        return db.session.scalar(select(Employee.id).where(Employee.email == DEMO_LOGINS[role]))
    of_role = select(Employee.id).where(Employee.role == Role(role)).order_by(Employee.id)
    taking_part = of_role.where(Employee.opted_in_at.is_not(None))
    sharing = taking_part.where(Employee.id.in_(select(Share.employee_id)))
    return next(
        found for query in (sharing, taking_part, of_role) if (found := db.session.scalar(query))
    )


@pytest.fixture
def demo(app: Flask, runner, tmp_path, monkeypatch) -> Flask:
    monkeypatch.setitem(app.config, "MEDIA_FOLDER", str(tmp_path / "media"))
    result = runner.invoke(args=["seed-demo", "--no-links"])
    assert result.exit_code == 0, result.output
    return app


def _visit_all(page, paths: list[str], tag: str) -> list[str]:
    wide = []
    for path in paths:
        response = page.goto(path)
        assert response is not None
        assert response.status < 500, f"{path} answered {response.status}"
        if (extra := overflow(page)) > 0:
            culprits = page.evaluate(WIDEST)
            wide.append(f"{path} is {extra}px too wide ({', '.join(culprits)})")
            screenshot(page, f"wide-{tag}-{path.strip('/').replace('/', '-') or 'home'}")
    return wide


@pytest.mark.parametrize("role", ["employee", "team_lead", "hr", "admin"])
def test_no_page_scrolls_sideways_on_a_phone(demo, new_page, role):
    with demo.app_context():
        me = db.session.get(Employee, _person(role))
        values = _path_values(me)
        link = sign_in_url(me)
        paths = []
        for endpoint, rule in sorted(page_endpoints(demo).items()):
            if endpoint in SIGNED_OUT:
                continue
            missing = [name for name in rule.arguments if values.get(name) is None]
            assert not missing, f"no demo value for {missing} in {rule.rule}"
            paths.append(rule.build({name: values[name] for name in rule.arguments})[1])
    page = new_page(**PHONE)
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/sign-in" not in url)
    assert len(paths) > 40
    assert "/" in paths  # the home page: for people who take part, their dashboard of cards
    wide = _visit_all(page, paths, role)
    assert not wide, "\n".join(wide)


@pytest.mark.parametrize("role", ["employee", "team_lead", "hr"])
def test_every_challenge_of_the_demo_fits_a_phone(demo, new_page, role):
    """Running, frozen, settled and one team's challenges each look different: every one
    the person sees, and its form where they may edit it."""
    with demo.app_context():
        me = db.session.get(Employee, _person(role))
        link = sign_in_url(me)
        paths = ["/challenges/new"] if challenges.can_organise(me) else []
        for challenge in db.session.scalars(challenges.list_visible(me)):
            paths.append(f"/challenges/{challenge.id}")
            if challenges.can_manage(me, challenge):
                paths += [f"/challenges/{challenge.id}/edit", f"/challenges/{challenge.id}/cancel"]
    assert len(paths) >= 2
    page = new_page(**PHONE)
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/sign-in" not in url)
    wide = _visit_all(page, paths, f"challenges-{role}")
    assert not wide, "\n".join(wide)


def test_signed_out_pages_fit_a_phone(demo, new_page):
    with demo.app_context():
        paths = [
            page_endpoints(demo)[e].build({"token": "not-a-real-token"})[1] for e in SIGNED_OUT
        ]
    assert _visit_all(new_page(**PHONE), sorted(paths), "anonymous") == []


# A field's look beside that of a text field made in the same form, as the stylesheet says.
COMPARE = """(field) => {
  const look = (e) => {
    const s = getComputedStyle(e);
    return [s.paddingLeft, s.borderTopLeftRadius, s.borderTopColor];
  };
  const probe = document.createElement("input");
  probe.type = "text";
  field.form.append(probe);
  const wanted = look(probe);
  probe.remove();
  return [look(field), wanted];
}"""


def test_redemption_decision_inputs_are_styled_like_every_field(demo, new_page):
    with demo.app_context():
        link = sign_in_url(db.session.get(Employee, _person("hr")))
        assert db.session.scalar(select(Reward.id))  # the demo has redemptions to decide
    page = new_page(**PHONE)
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/redemptions")
    fields = page.locator("form input[name=note], form input[name=reason]")
    assert fields.count() >= 2
    for index in range(fields.count()):
        mine, wanted = fields.nth(index).evaluate(COMPARE)
        assert mine == wanted
        assert mine[0] != "1px"  # not the browser's own padding


def test_a_team_rewards_funding_and_hrs_team_queue_fit_a_phone(demo, new_page):
    """The catalogue's team reward (progress, who pledged, pledge and withdraw forms)
    and HR's "Team rewards to fulfil" at 390 px."""
    from app.models import RewardKind
    from app.services import redemptions, team_rewards
    from tests.factories import LedgerLineFactory

    with demo.app_context():
        me = db.session.get(Employee, _person("employee"))
        hr = db.session.get(Employee, _person("hr"))
        LedgerLineFactory(employee_id=me.id, team_id=me.team_id, points=500)
        long_name = "A long team day out at the climbing hall"
        trip = redemptions.create_reward(
            hr, {"name": long_name, "cost": 400, "kind": RewardKind.TEAM}
        )
        dinner = redemptions.create_reward(
            hr, {"name": "Team dinner", "cost": 50, "kind": RewardKind.TEAM}
        )
        db.session.commit()
        team_rewards.pledge(me, trip.id, 120, "phone-1")
        team_rewards.pledge(me, dinner.id, 50, "phone-2")  # funded: in HR's queue
        db.session.commit()
        links = {"employee": sign_in_url(me), "hr": sign_in_url(hr)}
    wide = []
    for role, path in (("employee", "/rewards"), ("hr", "/redemptions")):
        page = new_page(**PHONE)
        page.goto(links[role])
        page.get_by_role("button", name="Sign in").click()
        wide += _visit_all(page, [path], f"team-{role}")
        if role == "employee":
            assert page.get_by_text("Withdraw my pledge of 120 points").count() == 1
        else:
            assert page.get_by_text("Team rewards to fulfil").count() == 1
    assert wide == []
