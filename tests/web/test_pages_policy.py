"""HR pages: the sharing policy with caps and network policy, and taboo topics."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, NetworkPolicy, Role, SharePolicy, TabooTopic
from app.services.policy import share_policy
from scoring.vocabulary import Channel
from tests.conftest import csrf_token
from tests.factories import TabooTopicFactory

POLICY = {
    "disclosure": "#employee",
    "utm_medium": "employee_advocacy",
    "per_day": "3",
    "per_week": "10",
    "per_channel_per_day": "2",
    "per_content": "2",
    "min_spacing_minutes": "30",
}
TOPIC = {
    "name": "Financial figures",
    "explanation": "Investor Relations publishes them first.",
    "phrases": "quarterly revenue\nEBIT\n",
    "patterns": "Q[1-4]\\s+results",
    "active": "on",
}


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def _post(client, path: str, data: dict, **kwargs):
    return client.post(path, data={"csrf_token": csrf_token(client, "/me"), **data}, **kwargs)


def policy_row(app) -> tuple:
    """The policy as stored, or its defaults before HR changed it."""
    with app.app_context():
        db.session.expire_all()
        row = share_policy()
        return (row.disclosure, row.per_day, row.per_week, row.min_spacing_minutes)


@pytest.mark.parametrize("path", ["/sharing-policy", "/taboo-topics"])
@pytest.mark.parametrize(
    ("role", "status"), [(Role.EMPLOYEE, 403), (Role.TEAM_LEAD, 403), (Role.HR, 200)]
)
def test_policy_pages_are_for_hr(client, login, path, role, status):
    login(role)
    assert client.get(path).status_code == status


def test_the_policy_page_explains_the_caps(app, client, login):
    login(Role.HR)
    page = client.get("/sharing-policy").get_data(as_text=True)
    assert "Protects your colleagues&#39; networks" in page
    assert 'value="#employee"' in page
    assert 'value="30"' in page


def test_hr_changes_the_policy(app, client, login):
    login(Role.HR)
    client.get("/sharing-policy")
    response = _post(
        client,
        "/sharing-policy",
        {**POLICY, "disclosure": "#Mitarbeiter", "per_day": "", "per_week": "7"},
    )
    assert response.status_code == 302
    assert policy_row(app) == ("#Mitarbeiter", None, 7, 30)
    assert "The sharing policy is saved" in client.get("/sharing-policy").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"disclosure": ""}, "disclosure"),
        ({"disclosure": "employee"}, "disclosure"),
        ({"disclosure": "#two words"}, "disclosure"),
        ({"per_day": "0"}, "per_day"),
        ({"per_week": "-2"}, "per_week"),
        ({"per_content": "lots"}, "per_content"),
        ({"min_spacing_minutes": "99999"}, "min_spacing_minutes"),
        ({"utm_medium": "a b"}, "utm_medium"),
    ],
)
def test_bad_policies_change_nothing(app, client, login, data, field):
    login(Role.HR)
    client.get("/sharing-policy")
    response = _post(client, "/sharing-policy", {**POLICY, "per_day": "4", **data})
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert policy_row(app) == ("#employee", 3, 10, 30)
    with app.app_context():
        assert db.session.scalar(select(SharePolicy)) is None  # not stored, not even by the GET


def test_network_policy(app, client, login):
    login(Role.HR)
    response = _post(client, "/sharing-policy/networks/x", {"note": "Terms forbid rewards"})
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(NetworkPolicy, Channel.X)
        assert (row.share_points, row.note) == (False, "Terms forbid rewards")
    page = client.get("/sharing-policy").get_data(as_text=True)
    assert "Shares on X earn no share points now." in page
    assert "clicks and referrals from those shares still count" in page
    response = _post(
        client, "/sharing-policy/networks/x", {"share_points": "on", "note": "n" * 301}
    )
    assert response.status_code == 422
    assert 'id="note-x-error"' in response.get_data(as_text=True)
    assert (
        _post(client, "/sharing-policy/networks/myspace", {"share_points": "on"}).status_code == 404
    )
    with app.app_context():
        assert db.session.get(NetworkPolicy, Channel.X).share_points is False
        assert _count(NetworkPolicy) == 1


def test_network_value_assumptions_on_the_page(app, client, login):
    login(Role.HR)
    page = client.get("/sharing-policy").get_data(as_text=True)
    # The defaults are the placeholders: LinkedIn's CPM of 8 to 35 euros.
    assert 'id="cpm_low_cents-linkedin"' in page
    assert 'placeholder="800"' in page
    assert 'placeholder="3500"' in page
    assumptions = {
        "cpm_low_cents": "1000",
        "cpm_high_cents": "2000",
        "cpc_low_cents": "100",
        "cpc_high_cents": "100",
        "seen_low_percent": "10",
        "seen_high_percent": "50",
    }
    response = _post(client, "/sharing-policy/networks/x", {"share_points": "on", **assumptions})
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(NetworkPolicy, Channel.X)
        assert (row.cpm_low_cents, row.seen_high_percent) == (1000, 50)
    page = client.get("/sharing-policy").get_data(as_text=True)
    assert "estimated with your assumptions" in page
    assert 'name="cpm_high_cents" min="0" step="1" inputmode="numeric"' in page
    assert 'value="2000"' in page
    # Low above high: named, kept as typed, nothing saved.
    bad = {**assumptions, "cpc_low_cents": "500"}
    response = _post(client, "/sharing-policy/networks/x", {"share_points": "on", **bad})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'id="cpc_low_cents-x-error"' in text
    assert "the low end must not be above the high end" in text
    assert 'value="500"' in text
    # Some but not all: named; all empty: the defaults again.
    some = {"share_points": "on", "cpm_low_cents": "1000"}
    response = _post(client, "/sharing-policy/networks/x", some)
    assert response.status_code == 422
    assert 'id="seen_high_percent-x-error"' in response.get_data(as_text=True)
    assert _post(client, "/sharing-policy/networks/x", {"share_points": "on"}).status_code == 302
    with app.app_context():
        assert db.session.get(NetworkPolicy, Channel.X).cpm_low_cents is None
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.action == "network_policy.update")
        ).all()
        assert len(actions) == 2


def test_taboo_topics_page(app, client, login):
    login(Role.HR)
    response = _post(client, "/taboo-topics", TOPIC)
    assert response.status_code == 302
    with app.app_context():
        topic = db.session.scalar(select(TabooTopic))
        assert topic.phrases == ["quarterly revenue", "EBIT"]
        assert topic.patterns == ["Q[1-4]\\s+results"]
        topic_id = topic.id
    page = client.get("/taboo-topics").get_data(as_text=True)
    assert "Financial figures" in page

    response = _post(client, "/taboo-topics/test", {"text": "Our q2 Results are in"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "This text touches 1 topic" in page
    assert "matched “q2 Results”" in page
    assert "Investor Relations publishes them first." in page
    page = _post(client, "/taboo-topics/test", {"text": "A nice day"}).get_data(as_text=True)
    assert "No taboo topic: this text may be shared." in page
    assert _post(client, "/taboo-topics/test", {"text": "x" * 10_001}).status_code == 422

    response = _post(client, f"/taboo-topics/{topic_id}", {**TOPIC, "active": ""})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(TabooTopic, topic_id).active is False
    assert _post(client, f"/taboo-topics/{topic_id}/delete", {}).status_code == 302
    with app.app_context():
        assert _count(TabooTopic) == 0


@pytest.mark.parametrize(
    ("data", "status", "field", "problem"),
    [
        ({"name": ""}, 422, "name", "This field cannot be empty."),
        ({"explanation": ""}, 422, "explanation", "This field cannot be empty."),
        ({"phrases": "", "patterns": ""}, 422, "phrases", "Give at least one phrase or pattern."),
        ({"patterns": "(unclosed"}, 422, "patterns", "Pattern 1 ((unclosed) is refused"),
        ({"patterns": "ok\n[a-"}, 422, "patterns", "Pattern 2 ([a-) is refused"),
        ({"name": "taken"}, 409, "name", "exists already"),
    ],
)
def test_bad_topics_change_nothing(app, client, login, data, status, field, problem):
    login(Role.HR)
    with app.app_context():
        taken = TabooTopicFactory(name="Taken", phrases=["secret"]).id
        audits = _count(AuditEntry)
    response = _post(client, "/taboo-topics", {**TOPIC, **data})
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert problem in page
    if data.get("name") != "taken":  # renaming to its own name is allowed
        response = _post(client, f"/taboo-topics/{taken}", {**TOPIC, "name": "Taken", **data})
        assert response.status_code == status
        assert f'id="{field}-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert _count(TabooTopic) == 1
        topic = db.session.get(TabooTopic, taken)
        assert (topic.phrases, topic.patterns) == (["secret"], [])
        assert _count(AuditEntry) == audits
